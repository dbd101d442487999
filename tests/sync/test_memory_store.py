"""Run the store contract suite on the in-memory store (``store`` fixture: conftest)."""

from tests.sync.store_contract import *  # noqa: F403
