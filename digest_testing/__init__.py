"""Test helpers for digest (fake services used by the test suite and benchmarks)."""
