"""release-policy-validator: contract, linter, reference server and fuzzer for release policies."""

__version__ = "0.1.0"
