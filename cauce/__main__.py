from cauce.cli import main

main()
