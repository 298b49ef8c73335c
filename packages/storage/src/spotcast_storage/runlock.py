"""One `spotcast run` per store at a time: an OS-level lock on a file beside the store.

Two runs on one store would both ingest, both retrain and both forecast (each sees the other's
work as new), so a pass of `spotcast run` holds an exclusive lock on ``<store>.run.lock``. The
operating system releases it when the holder exits in any way, SIGKILL included, so a killed
run never leaves the store locked; no row in the database is involved (a row would outlive a
killed holder). The holder writes its process id and command line into the file so a waiting
run can say whom it waits for.

On Hopsworks there is no store file: the lock is taken on ``.spotcast/run-<project>.lock`` in
the working directory, which keeps runs on one machine apart (not runs on two machines).
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from spotcast_storage.errors import SpotcastError


class RunLockedError(SpotcastError):
    """Another `spotcast run` holds the store and the caller chose not to wait."""


def lock_path(project: Any) -> Path:
    """The lock file of ``project``'s runs: beside the DuckDB file, or per Hopsworks project."""
    path = getattr(project, "path", None)
    if path is not None:
        p = Path(path)
        return p.with_name(p.name + ".run.lock")
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(getattr(project, "name", None) or project.describe()))
    return Path(".spotcast") / f"run-{name}.lock"


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    _REGION = 1 << 20  # lock a byte far past the holder's note, so waiters can still read the note

    def _lock(fd: int, block: bool) -> bool:
        os.lseek(fd, _REGION, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_LOCK if block else msvcrt.LK_NBLCK, 1)
        except OSError:
            if block:
                return _lock(fd, block)  # LK_LOCK gives up after 10 s: keep waiting
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, _REGION, os.SEEK_SET)
        with contextlib.suppress(OSError):
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(fd: int, block: bool) -> bool:
        # flock locks belong to the open file, so two opens in one process exclude each other too
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if block else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)


def _holder(fd: int) -> str:
    try:
        note = os.pread(fd, 300, 0).decode("utf-8", "replace").strip() if hasattr(os, "pread") else ""
    except OSError:
        note = ""
    pid, _, cmd = note.partition(" ")
    if not pid.isdigit():
        return "another process"
    return f"process {pid}" + (f" ({cmd.strip()[:120]})" if cmd.strip() else "")


def _note() -> bytes:
    try:
        cmd = Path(f"/proc/{os.getpid()}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        cmd = " ".join(sys.argv)
    return f"{os.getpid()} {cmd}\n".encode()


@contextlib.contextmanager
def run_lock(project: Any, wait: bool = True, on_wait: Callable[[str], None] | None = None) -> Iterator[Path]:
    """Hold the run lock of ``project`` for the ``with`` block.

    When another run holds it: with ``wait`` (the default) say so through ``on_wait`` and block
    until it is free; without, raise :class:`RunLockedError` at once, naming the holder."""
    path = lock_path(project)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise SpotcastError(f"cannot create the run lock {path}: {exc.strerror or exc}; check that the "
                            "store's folder is writable") from None
    try:
        if not _lock(fd, block=False):
            holder = _holder(fd)
            if not wait:
                raise RunLockedError(
                    f"another `spotcast run` ({holder}) is working on this store, and --no-wait was given, "
                    "so this run stops without doing anything; run again later, or leave out --no-wait to "
                    "wait for it")
            if on_wait is not None:
                on_wait(f"another `spotcast run` ({holder}) is working on this store; waiting for it to "
                        "finish (Ctrl-C to stop; --no-wait fails at once instead)")
            _lock(fd, block=True)
        os.ftruncate(fd, 0)
        os.pwrite(fd, _note(), 0) if hasattr(os, "pwrite") else os.write(fd, _note())
        yield path
    finally:
        _unlock(fd)
        os.close(fd)
