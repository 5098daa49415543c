"""The stores this process has open, so that a writer can close them all before publishing.

A low module of the store package: it knows nothing of what a store is beyond ``close()``,
so the modules that open stores (:mod:`critmin.store.db`) and the ones that must release
them before a write (:mod:`critmin.store.user`) both import it, and neither imports the
other.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Protocol, TypeVar


class Closable(Protocol):
    """Anything the registry can release."""

    def close(self) -> None:
        """Release every resource (connections, leases)."""
        ...


S = TypeVar("S", bound=Closable)

_OPEN: dict[tuple[Hashable, ...], Closable] = {}
_LOCK = threading.Lock()


def open_store(key: tuple[Hashable, ...], make: Callable[[], S], scope: int) -> S:
    """The open store of ``key``, made by ``make`` on first use. Stores whose key shares the
    first ``scope`` items with ``key`` but not the rest (an older generation of the same
    data) are forgotten, not closed: a reader may still be using one."""
    with _LOCK:
        found = _OPEN.get(key)
        if found is None:
            for stale in [k for k in _OPEN if k[:scope] == key[:scope]]:
                _OPEN.pop(stale)
            found = _OPEN[key] = make()
    return found  # type: ignore[return-value]  # stored by this function under this key


def release_stores() -> None:
    """Close every store this process opened (their leases too): a writer calls it before
    publishing, so that its own leases do not keep the files it replaces alive."""
    with _LOCK:
        for store in _OPEN.values():
            store.close()
        _OPEN.clear()
