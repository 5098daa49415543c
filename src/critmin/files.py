"""Files in and out: atomic replacement, and the checks every input file passes.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> with atomic_write(folder / "a.txt") as tmp:
...     _ = tmp.write_text("done")
>>> (folder / "a.txt").read_text(), sorted(p.name for p in folder.iterdir())
('done', ['a.txt'])
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from critmin.errors import InvalidInput

TEMP_PREFIX = ".critmin-tmp-"
"""Prefix of every temporary file critmin writes; leftovers of a killed run carry it."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_write(path: Path, mode: int = 0o666) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` in one rename.

    The file gets ``mode`` minus the umask (normal permissions, not mkstemp's 0600), and
    is flushed to disk before the rename. On any error, or an interrupt, the temporary file
    is removed and ``path`` is left as it was.
    """
    path = Path(path)
    fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, mode & ~_umask())
        with tmp.open("rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def temp_folder(parent: Path) -> Iterator[Path]:
    """A private temporary folder in ``parent`` (same file system, so its files can be
    renamed into place), removed on exit. While it exists its owner holds a lock on it, so
    :func:`remove_leftovers` never removes a live run's folder."""
    import fcntl
    import shutil

    parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=parent))
    fd = os.open(folder / OWNER, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        os.close(fd)


OWNER = ".owner"


def _orphaned(folder: Path) -> bool:
    import fcntl

    try:
        fd = os.open(folder / OWNER, os.O_RDWR)
    except OSError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


def remove_leftovers(folder: Path, min_age_s: float = 0.0) -> list[str]:
    """Delete what interrupted runs left in ``folder``: temporary folders whose owner is
    gone, and temporary files older than ``min_age_s`` (0 is safe only while holding the
    folder's write lock, when no other writer's temporary file can exist)."""
    import shutil
    import time

    removed: list[str] = []
    if not folder.is_dir():
        return removed
    now = time.time()
    for entry in folder.iterdir():
        if not entry.name.startswith(TEMP_PREFIX):
            continue
        try:
            if entry.is_dir() and not entry.is_symlink():
                if not _orphaned(entry):
                    continue
                shutil.rmtree(entry, ignore_errors=True)
            elif now - entry.lstat().st_mtime >= min_age_s:
                entry.unlink(missing_ok=True)
            else:
                continue
        except OSError:
            continue
        removed.append(entry.name)
    return removed


def check_input_file(path: Path) -> Path:
    """``path`` if it is an existing regular file (not a FIFO, device or folder)."""
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InvalidInput(f"no such file: {path}") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise InvalidInput(f"{path} is a folder; give the files inside it")
    if not stat.S_ISREG(info.st_mode):
        raise InvalidInput(f"{path} is not a regular file (a pipe or device cannot be imported)")
    if not os.access(path, os.R_OK):
        raise InvalidInput(f"cannot read {path}: permission denied")
    return path


def inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` (resolved) lies inside ``folder`` (resolved)."""
    try:
        Path(path).resolve().relative_to(Path(folder).resolve())
    except ValueError:
        return False
    return True


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
