"""The reference server: the contract kept to the letter, over SQLite or PostgreSQL (``[server]`` extra)."""

from validator.server.app import ServerConfig, create_app
from validator.server.store import Storage, Store

__all__ = ["ServerConfig", "Storage", "Store", "create_app"]
