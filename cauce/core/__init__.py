"""Cauce's ground floor: what every other package may import, and which imports nothing of Cauce
above it: the typed stack model and its rules, redaction, lazy exports, the local AWS identity,
the local lake, Kinesis record I/O and the KPL format.

The floors (tests/test_house.py fails on any import that runs up):
    cauce.core                                   ground floor
    cauce.etl, cauce.handlers, cauce.analytics,  the four capabilities (analytics may use etl;
    cauce.statemachines                          statemachines binds Tasks through an interface)
    cauce.localstack, cauce.ops                  the local stack; cost, advice, doctor, layer
    cauce.cli, cauce.pytest_plugin               the command line and the pytest plugin
"""
