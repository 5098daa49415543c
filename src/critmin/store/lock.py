"""File locks (POSIX ``flock``): one writer at a time, and leases that keep files alive.

A writer holds :func:`exclusive` on the store's lock file from reading the manifest to
publishing the new one. A reader holds a :class:`Lease` (a shared lock on a file named
after the manifest generation it reads) for as long as it may open that generation's
files; a writer deletes replaced files only when it can take every stale lease
exclusively, that is when no reader can still need them.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from critmin.errors import Busy, DataError

POLL_S = 0.1


def _open(path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o666)


def try_lock(fd: int, shared: bool = False) -> bool:
    """Take the lock on ``fd`` if it is free now."""
    try:
        fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextmanager
def exclusive(path: Path, timeout_s: float, waiting: Callable[[], None] | None = None
              ) -> Iterator[None]:
    """Hold the exclusive lock on ``path``, waiting up to ``timeout_s`` for it.

    ``waiting`` is called once if the lock is not free at first (to tell the user why
    nothing happens). Raises :class:`~critmin.errors.Busy` after the timeout.
    """
    try:
        fd = _open(path)
    except OSError as exc:
        raise DataError(
            f"cannot write to {path.parent}: {exc.strerror or exc}; critmin keeps its imports "
            "there (set CRITMIN_HOME to a folder you can write)") from None
    try:
        if not try_lock(fd):
            if waiting is not None:
                waiting()
            deadline = time.monotonic() + timeout_s
            while not try_lock(fd):
                if time.monotonic() > deadline:
                    raise Busy(
                        f"another critmin process has been writing to {path.parent} for over "
                        f"{timeout_s:.0f} s; try again when it has finished"
                    )
                time.sleep(POLL_S)
        yield
    finally:
        os.close(fd)  # closing releases the lock


class Lease:
    """A shared lock on ``path`` held until :meth:`release` (or garbage collection).

    In a data folder that cannot be written (a read-only mount, another user's folder) the
    lease file cannot be created: no writer can replace files there either, so the lease is
    then held on the existing file opened for reading, or not at all (:attr:`held` False).
    """

    _fd: int | None = None

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            fd = _open(path)
        except OSError:
            try:
                fd = os.open(path, os.O_RDONLY)
            except OSError:
                return
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
        except OSError:
            os.close(fd)
            return
        self._fd = fd

    @property
    def held(self) -> bool:
        """Whether a lock is held (False in a folder where no lease file can exist)."""
        return self._fd is not None

    def release(self) -> None:
        """Give the lease up."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def __del__(self) -> None:
        with suppress(OSError):  # at interpreter exit: nothing left to release
            self.release()


def unused(path: Path) -> bool:
    """Whether nobody holds a lease on ``path`` now; if so, ``path`` is removed."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return True
    try:
        if not try_lock(fd):
            return False
        path.unlink(missing_ok=True)
        return True
    finally:
        os.close(fd)
