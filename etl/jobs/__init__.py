"""Jobs shipped with Cauce; `cauce job list` finds jobs here and in `CAUCE_JOBS_PATH` folders."""
