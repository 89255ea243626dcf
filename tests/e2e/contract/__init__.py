"""Contract suites: one per capability, the same assertions run against the monolith and against the service.

A suite is a set of test functions taking a ``Target``; each capability's test module parametrises them over its
targets (see tests/e2e/test_contract_inventory.py). Data comes from the monolith's demo seed; a service target
gets the same data by backfill before any test writes.
"""
