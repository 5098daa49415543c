"""Files in and out: atomic replacement, and the checks every input file passes (a regular
file; a zip archive within the limits of :class:`ZipArchive`; a header naming each column once).

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> with atomic_write(folder / "a.txt") as tmp:
...     _ = tmp.write_text("done")
>>> (folder / "a.txt").read_text(), sorted(p.name for p in folder.iterdir())
('done', ['a.txt'])
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from critmin.errors import DataError, InvalidInput

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
    fd, name = tempfile.mkstemp(prefix=_writer_prefix(), suffix=path.suffix, dir=path.parent)
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


def _host() -> str:
    import socket

    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def _writer_prefix() -> str:
    """The prefix of this process's temporary files: host and process id, so that the
    leftovers of a killed writer are known as such at once (:func:`remove_leftovers`)."""
    return f"{TEMP_PREFIX}{_host()}-{os.getpid()}-"


def _dead_writer(name: str) -> bool:
    """Whether the temporary file ``name`` was written by a process of this host that no
    longer runs (a file of another host, or without a process id, is judged by its age)."""
    parts = name[len(TEMP_PREFIX):].split("-", 2)
    if len(parts) < 3 or parts[0] != _host() or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, owned by another user
        return False
    return False


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
    gone, temporary files whose writer process is gone, and other temporary files older
    than ``min_age_s`` (0 is safe only while holding the folder's write lock, when no other
    writer's temporary file can exist)."""
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
            elif _dead_writer(entry.name) or now - entry.lstat().st_mtime >= min_age_s:
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


MAX_ZIP_ENTRIES = 1_000
"""Most entries (files and folders) one zip archive may list. A BACI release lists about 35
(a CSV per year, the code files, a readme); a listing of thousands is a crafted archive that
would take hours to go through."""
MAX_ZIP_BYTES = 64 << 30
"""Most bytes the CSV members of one zip archive may inflate to, in total: 64 GiB, several
times a whole BACI release (about 30 yearly CSVs of a few hundred MB each)."""
MAX_INFLATION = 50
"""Most times a zip member, and the CSV members of an archive together, may inflate beyond
their compressed size (BACI's CSVs inflate about 4 times; a zip bomb thousands of times).
Members under 1 MiB are exempt."""
ZIP_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate",
               zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "lzma"}
"""Compression methods a member may use (what Python's zipfile reads)."""
_SMALL = 1 << 20

_ZIP_FAILURES: tuple[type[Exception], ...] = (
    zipfile.BadZipFile, EOFError, OSError, RuntimeError, NotImplementedError, ValueError)
"""What reading a damaged, encrypted or size-lying archive raises (zlib, bz2 and lzma errors
are subclasses of these or of Exception: see :func:`_damaged`)."""


def _damaged(exc: BaseException) -> bool:
    """Whether ``exc`` is a decompressor's or zipfile's complaint about the bytes read."""
    import lzma
    import zlib

    return isinstance(exc, (*_ZIP_FAILURES, zlib.error, lzma.LZMAError))


class _MemberStream(io.RawIOBase):
    """A zip member's bytes: fails with a :class:`DataError` naming the member when it is
    damaged (bad CRC, corrupt deflate data) or inflates beyond ``limit`` bytes (its declared
    size, which may lie)."""

    def __init__(self, raw: IO[bytes], limit: int, name: str) -> None:
        self.raw, self.limit, self.name, self.count = raw, limit, name, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = self.raw.read(len(buffer))
        except Exception as exc:
            if not _damaged(exc):
                raise
            raise DataError(f"{self.name}: damaged zip member ({exc})") from None
        self.count += len(data)
        if self.count > self.limit:
            raise DataError(f"{self.name}: inflates beyond the {self.limit:,} bytes it "
                            "declares; refused as a possible zip bomb")
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self.raw.close()
        super().close()


def _listed_entries(path: Path) -> int | None:
    """How many entries a zip archive's end record says its central directory lists (read
    before the directory itself, whose parsing grows with it); None when it cannot tell."""
    import struct

    size = path.stat().st_size
    with path.open("rb") as fh:
        fh.seek(max(0, size - (1 << 16) - 22))
        tail = fh.read()
        end = tail.rfind(b"PK\x05\x06")
        if end < 0 or len(tail) < end + 22:
            return None
        entries = int(struct.unpack("<H", tail[end + 10:end + 12])[0])
        locator = end - 20
        if entries != 0xFFFF or locator < 0 or tail[locator:locator + 4] != b"PK\x06\x07":
            return entries
        fh.seek(int(struct.unpack("<Q", tail[locator + 8:locator + 16])[0]))
        record = fh.read(40)
    if len(record) < 40 or record[:4] != b"PK\x06\x06":
        return None
    return int(struct.unpack("<Q", record[32:40])[0])


class ZipArchive:
    """A zip archive opened once, its central directory checked before any member is read.

    Refused with a :class:`DataError` naming the archive, the count or size and the limit:
    an archive that is not a readable zip; more than :data:`MAX_ZIP_ENTRIES` entries; a
    name listed twice; a wanted member that is encrypted, uses a compression method outside
    :data:`ZIP_METHODS`, or declares more than :data:`MAX_INFLATION` times its compressed
    size; wanted members that together declare more than :data:`MAX_ZIP_BYTES`, more than
    :data:`MAX_INFLATION` times the archive's size, or more compressed bytes than the
    archive holds (entries sharing their data). While a member is read, it may not inflate
    beyond its declared size, and damage (bad CRC, corrupt data) is a :class:`DataError`.
    Every member is read from the one open archive, so reading n members costs n, not n².

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.zip"
    >>> with zipfile.ZipFile(path, "w") as zf:
    ...     zf.writestr("a.csv", "x,y"); zf.writestr("readme.txt", "hello")
    >>> with ZipArchive(path, ".csv") as archive, archive.open(archive.members[0]) as f:
    ...     [m.filename for m in archive.members], f.read()
    (['a.csv'], b'x,y')
    """

    def __init__(self, path: Path, suffix: str = "") -> None:
        self.path = Path(path)
        listed = _listed_entries(self.path)
        if listed is not None and listed > MAX_ZIP_ENTRIES:
            raise DataError(f"{self.path.name}: lists {listed:,} entries; at most "
                            f"{MAX_ZIP_ENTRIES:,} are read from one zip archive")
        try:
            self.zip = zipfile.ZipFile(self.path)
        except Exception as exc:
            if not _damaged(exc):
                raise
            raise DataError(f"{self.path.name}: not a readable zip archive ({exc})") from None
        try:
            self.members = self._checked(suffix)
        except BaseException:
            self.zip.close()
            raise

    def _checked(self, suffix: str) -> list[zipfile.ZipInfo]:
        name = self.path.name
        infos = self.zip.infolist()
        if len(infos) > MAX_ZIP_ENTRIES:
            raise DataError(f"{name}: lists {len(infos):,} entries; at most "
                            f"{MAX_ZIP_ENTRIES:,} are read from one zip archive")
        repeated = [(n, c) for n, c in Counter(i.filename for i in infos).items() if c > 1]
        if repeated:
            entry, times = repeated[0]
            raise DataError(f"{name}: lists {entry!r} {times:,} times; each name may appear "
                            "once in a zip archive (refused as a crafted archive)")
        wanted = [i for i in infos
                  if not i.is_dir() and i.filename.lower().endswith(suffix.lower())]
        for info in wanted:
            where = f"{name}:{info.filename}"
            if info.flag_bits & 0x1:
                raise DataError(f"{where}: the member is encrypted; extract it with its "
                                "password and import the CSV file")
            if info.compress_type not in ZIP_METHODS:
                raise DataError(f"{where}: compressed with zip method {info.compress_type}; "
                                f"critmin reads {', '.join(ZIP_METHODS.values())}")
            if info.file_size > max(info.compress_size * MAX_INFLATION, _SMALL):
                raise DataError(f"{where}: declares {info.file_size:,} bytes from "
                                f"{info.compress_size:,} compressed, beyond {MAX_INFLATION}x; "
                                "refused as a possible zip bomb")
        archive_bytes = self.path.stat().st_size
        declared = sum(i.file_size for i in wanted)
        compressed = sum(i.compress_size for i in wanted)
        if declared > MAX_ZIP_BYTES:
            raise DataError(f"{name}: its CSV members declare {declared:,} bytes in total; "
                            f"at most {MAX_ZIP_BYTES:,} are read from one zip archive")
        if declared > max(archive_bytes * MAX_INFLATION, _SMALL):
            raise DataError(f"{name}: its CSV members declare {declared:,} bytes from a "
                            f"{archive_bytes:,}-byte archive, beyond {MAX_INFLATION}x; refused "
                            "as a possible zip bomb")
        if compressed > archive_bytes:
            raise DataError(f"{name}: its members declare {compressed:,} compressed bytes, "
                            f"more than the archive's {archive_bytes:,}; entries share their "
                            "data (refused as a crafted archive)")
        return wanted

    def open(self, info: zipfile.ZipInfo, buffer: int = 1 << 20) -> IO[bytes]:
        """A buffered stream of one member (a :class:`DataError` if it is damaged)."""
        where = f"{self.path.name}:{info.filename}"
        try:
            raw = self.zip.open(info)
        except Exception as exc:
            if not _damaged(exc):
                raise
            raise DataError(f"{where}: damaged zip member ({exc})") from None
        return io.BufferedReader(_MemberStream(raw, info.file_size, where), buffer)

    def close(self) -> None:
        """Close the archive."""
        self.zip.close()

    def __enter__(self) -> ZipArchive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def column_names(header: Iterable[str], where: str) -> list[str]:
    """A CSV header's column names as matched to fields (spaces, quotes and case dropped),
    refused when two columns name one field.

    >>> column_names(['"t"', " I "], "a.csv")
    ['t', 'i']
    >>> column_names(["t", "q", "T"], "a.csv")
    Traceback (most recent call last):
    critmin.errors.DataError: a.csv: column 't' appears 2 times (columns 1, 3); each column may appear once
    """
    names = [h.strip().strip('"').strip().lower() for h in header]
    counts = Counter(n for n in names if n)
    repeated = [n for n, c in counts.items() if c > 1]
    if repeated:
        n = repeated[0]
        at = ", ".join(str(k + 1) for k, m in enumerate(names) if m == n)
        raise DataError(f"{where}: column {n!r} appears {counts[n]} times (columns {at}); "
                        "each column may appear once")
    return names
