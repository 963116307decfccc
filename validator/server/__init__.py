"""The reference server: the contract kept to the letter, over SQLite. Needs the ``[server]`` extra."""

from validator.server.app import ServerConfig, create_app
from validator.server.store import Store

__all__ = ["ServerConfig", "Store", "create_app"]
