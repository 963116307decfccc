"""The fuzzer's tests run against the same live reference server as the server's tests."""

from tests.server.conftest import server

__all__ = ["server"]
