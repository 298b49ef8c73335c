"""Sharing one DuckDB file between processes.

DuckDB locks a database file per process: while one process holds it read-write, no other
process can open it at all (not even read-only), and a writer cannot open it while any
reader holds it. Opening a DuckDB instance also costs 20-30 ms, too much to pay per commit.

So each process keeps at most one instance per file, hands out cursors on it, and closes
it as soon as it is idle *and* another process is waiting (or after a short idle timeout).
A process that meets a lock conflict touches a small "waiting" file beside the database;
holders check it (one ``stat``) whenever they go idle and every few milliseconds while
idle, and let go. Openers retry a conflict with bounded, jittered backoff and finally fail
with an error naming the process that holds the lock.

DuckDB's own lock is a POSIX record lock (``fcntl``), which belongs to the process and is
dropped when the process closes *any* descriptor of the file -- and DuckDB itself opens and
closes the file twice (to read its magic bytes) before it opens an instance, so a second
instance on the same file in one process (another spelling of the path, a user's own
``duckdb.connect`` in the same notebook) silently unlocks the first. A writer in another
process then gets in and checkpoints while the first instance still reads, which fails with
``Could not read enough bytes``. So every spotcast instance also holds an ``flock`` on
``<store>.lock`` beside the file (shared for reading, exclusive for writing) from before it
opens until after it closes: an ``flock`` belongs to the open file, so no other descriptor's
close in the process can drop it.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import random
import re
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb

if sys.platform != "win32":
    import fcntl

from spotcast_storage.errors import (
    ReadOnlyError,
    SpotcastError,
    StoreLockedError,
    StoreNotFoundError,
    StoreWriteError,
    UsageError,
)

DEFAULT_LOCK_TIMEOUT = 60.0
DEFAULT_IDLE_TIMEOUT = 0.5
_POLL = 0.01
_WAIT_FRESH = 1.0
_YIELD = 0.05  # after letting a waiting process in, give it this long before taking the file back
_MAX_BACKOFF = 0.025
_LOCK_RE = re.compile(r"lock", re.IGNORECASE)
_PID_RE = re.compile(r"PID (\d+)")


def _lock_timeout() -> float:
    try:
        return float(os.environ.get("SPOTCAST_LOCK_TIMEOUT", DEFAULT_LOCK_TIMEOUT))
    except ValueError:
        return DEFAULT_LOCK_TIMEOUT


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


def _describe_pid(pid: int) -> str:
    cmd = _command_line(pid)
    return f"process {pid} ({cmd[:120]})" if cmd else f"process {pid}"


def _holder_advice(holder_cmd: str) -> str:
    """What to do about the process holding the file, without recommending what it is doing."""
    if re.search(r"(^|[/\s(])(spotcast-store\s(.*\s)?sql|spotcast\s(.*\s)?store\s(.*\s)?sql)(\s|$)", holder_cmd):
        return ("It is a `spotcast-store sql` query still running: it lets go when the query ends or "
                "when its --timeout (default 30 s) stops it; stop it with Ctrl-C to go on now.")
    if re.search(r"(^|[/\s(])spotcast(-[a-z]+)?(\s|\)|$)", holder_cmd):
        return "It is another spotcast process working on this store: wait for it, or raise SPOTCAST_LOCK_TIMEOUT."
    return ("If that is a `duckdb` shell or notebook with the file open, close it (for long analysis, work on "
            "a copy of the file); otherwise wait for it or raise SPOTCAST_LOCK_TIMEOUT.")


def check_store_path(path: Path) -> None:
    """A store path must name a file (or a new one): a folder is a usage error, said plainly."""
    if path.is_dir():
        raise UsageError(f"the store path {path} is a folder, not a DuckDB file; give the file with --store "
                         f"(or SPOTCAST_STORE), e.g. {path / 'store.duckdb'}")


def open_error(path: Path, exc: Exception) -> Exception:
    """A clear error for a file DuckDB cannot open (not a DuckDB file, no permission), or ``exc``."""
    msg = str(exc)
    if "not a valid DuckDB database file" in msg:
        return UsageError(f"{path} is not a DuckDB database file, so it cannot be a spotcast store; point "
                          "--store (or SPOTCAST_STORE) at a store, or at a new file name to create one")
    if "Permission denied" in msg or "Read-only file system" in msg or "No space left" in msg:
        return StoreWriteError(f"cannot open the store {path}: {msg}. Check that the file and its folder "
                               "are writable by this user and the disk has space")
    return exc


def write_error(path: Path, exc: Exception) -> Exception:
    """The first error of a failed write, as the one to report (never the rollback's)."""
    msg = str(exc)
    for prefix in ("TransactionContext Error: Failed to commit: ", "TransactionContext Error: "):
        if msg.startswith(prefix):
            msg = msg[len(prefix):]
            break
    if isinstance(exc, SpotcastError):
        return exc
    if isinstance(exc, (duckdb.IOException, OSError)) or any(
            w in msg for w in ("Permission denied", "No space left", "Read-only file system", "Cannot open file",
                               "Could not write", "Could not fsync")):
        return StoreWriteError(
            f"could not write to the store {path}: {msg}. Nothing of this write was committed (the store is "
            f"as before it); check that the folder {path.parent} is writable by this user and the disk has space")
    return exc


class Discard(Exception):
    """Raised inside :func:`transaction` to roll back quietly (a write that changed nothing)."""


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection, path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN ... COMMIT, rolled back on any error. When DuckDB has already ended the transaction
    (a failed commit: read-only folder, full disk), the rollback fails too; its error is dropped
    so the first error, the real cause, is the one raised. :class:`Discard` rolls back silently."""
    con.execute("BEGIN")
    try:
        yield con
    except Discard:
        con.execute("ROLLBACK")
        return
    except BaseException as exc:
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
        err = write_error(path, exc) if isinstance(exc, Exception) else exc
        if err is exc:
            raise
        raise err from None
    try:
        con.execute("COMMIT")
    except duckdb.Error as exc:
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
        err = write_error(path, exc)
        if err is exc:
            raise
        raise err from None


def one_row(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...]:
    """The row of a query that always returns exactly one (an aggregate, ``nextval``, a row the
    same transaction just found). DuckDB's ``fetchone`` may return None, and reading ``[0]`` of
    that would fail with a TypeError that names nothing; this names the query instead."""
    row = con.execute(sql, list(params)).fetchone()
    if row is None:
        raise SpotcastError(
            f"the store returned no row for a query that always returns one ({' '.join(sql.split())}); "
            "the store file is damaged or its bookkeeping was changed outside spotcast; restore it from a backup")
    return row


def _is_lock_conflict(exc: Exception) -> bool:
    msg = str(exc)
    return (isinstance(exc, duckdb.IOException) and bool(_LOCK_RE.search(msg)) and "PID" in msg) or (
        "Conflicting lock" in msg
    )


def configure_connection(con: duckdb.DuckDBPyConnection) -> None:
    """Instance-wide settings (cursors inherit them): UTC, so TIMESTAMPTZ columns come back
    as UTC in pandas whatever the machine's time zone."""
    con.execute("SET GLOBAL TimeZone = 'UTC'")


def lock_file(path: Path) -> Path:
    """The file whose ``flock`` every spotcast instance on ``path`` holds while it is open."""
    return path.with_name(path.name + ".lock")


def _flock_holders(lock: Path) -> list[int]:
    """Processes other than this one holding an ``flock`` on ``lock`` (Linux: /proc/locks)."""
    try:
        ino = lock.stat().st_ino
        text = Path("/proc/locks").read_text()
    except OSError:
        return []
    pids = []
    for line in text.splitlines():
        parts = line.split()
        # "1: FLOCK  ADVISORY  WRITE 4242 08:01:1234 0 EOF" (a blocked waiter's line has "->")
        if len(parts) >= 6 and parts[1] == "FLOCK" and "->" not in parts[:2]:
            dev_ino, pid = parts[5], parts[4]
            if dev_ino.rsplit(":", 1)[-1] == str(ino) and pid.isdigit() and int(pid) != os.getpid():
                pids.append(int(pid))
    return pids


class _FileLock:
    """An ``flock`` on ``<store>.lock``: shared for a read-only instance, exclusive for a writer.

    Not on Windows, where DuckDB's lock (``LockFileEx``) belongs to its handle and is not
    dropped by other handles. Where the lock file cannot be created (a read-only folder) the
    opener goes on without it: DuckDB's own lock still applies, nobody can write there, and
    a write fails with DuckDB's own error about the folder (see :func:`open_error`)."""

    def __init__(self, path: Path) -> None:
        self.path = lock_file(path)
        self.fd: int | None = None

    def acquire(self, write: bool) -> bool:
        """Take the lock without waiting; False when another process holds it in a conflicting way."""
        if sys.platform == "win32":
            return True
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError:
            return True
        try:
            fcntl.flock(fd, (fcntl.LOCK_EX if write else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except OSError:  # a file system without flock: DuckDB's lock is all there is
            os.close(fd)
            return True
        self.fd = fd
        return True

    def release(self) -> None:
        if self.fd is not None:
            fd, self.fd = self.fd, None
            with contextlib.suppress(OSError):
                os.close(fd)  # closing the one descriptor of this open file releases its flock


class _Manager:
    """The one DuckDB instance this process holds on one file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.wait_path = path.with_name(path.name + ".waiting")
        self.lock = threading.RLock()
        self.idle = threading.Condition(self.lock)
        self.con: duckdb.DuckDBPyConnection | None = None
        self.read_only = True
        self.users = 0
        self.last_release = 0.0
        self._watcher: threading.Thread | None = None
        self.idle_timeout = DEFAULT_IDLE_TIMEOUT
        self.yield_until = 0.0
        self.file_lock = _FileLock(path)

    # -- cross-process courtesy ---------------------------------------------------------
    def _announce_waiting(self) -> None:
        with contextlib.suppress(OSError):
            self.wait_path.write_text(str(os.getpid()))

    def _someone_waiting(self) -> bool:
        try:
            st = self.wait_path.stat()
        except OSError:
            return False
        if time.time() - st.st_mtime > _WAIT_FRESH:
            return False
        try:
            return self.wait_path.read_text().strip() != str(os.getpid())
        except OSError:
            return False

    # -- open / close -----------------------------------------------------------------
    def _open(self, write: bool) -> None:
        check_store_path(self.path)
        if not write and not self.path.exists():
            raise StoreNotFoundError(
                f"no spotcast store at {self.path}; create one by writing to it "
                "(e.g. `spotcast-ingest backfill ...`) or point --store / SPOTCAST_STORE at an existing file"
            )
        if write:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise UsageError(f"cannot create the folder of the store {self.path}: {exc.strerror or exc}; "
                                 "choose another --store path") from None
        pause = self.yield_until - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        deadline = time.monotonic() + _lock_timeout()
        delay = 0.002
        while True:
            holder_pid: int | None = None
            if self.file_lock.acquire(write):
                try:
                    con = duckdb.connect(str(self.path), read_only=not write)
                    break
                except duckdb.Error as exc:
                    self.file_lock.release()
                    if not _is_lock_conflict(exc):
                        err = open_error(self.path, exc)
                        if err is exc:
                            raise
                        raise err from None
                    m = _PID_RE.search(str(exc))
                    holder_pid = int(m.group(1)) if m else None
                except BaseException:
                    self.file_lock.release()
                    raise
            self._announce_waiting()
            if time.monotonic() >= deadline:
                if holder_pid is None:
                    holder_pid = next(iter(_flock_holders(self.file_lock.path)), None)
                holder = _describe_pid(holder_pid) if holder_pid else "another process"
                cmd = _command_line(holder_pid) if holder_pid else ""
                raise StoreLockedError(
                    f"the store {self.path} is held by {holder} and did not become free within "
                    f"{_lock_timeout():g} s. {_holder_advice(cmd)}"
                ) from None
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, _MAX_BACKOFF)
        configure_connection(con)
        self.con, self.read_only = con, not write
        if self._watcher is None or not self._watcher.is_alive():
            # Not a daemon: a daemon thread frozen inside DuckDB at interpreter exit aborts the
            # process ("terminate called ..."). _close_all stops it before threads are joined.
            self._watcher = threading.Thread(target=self._watch, name=f"spotcast-store-{self.path.name}", daemon=False)
            self._watcher.start()

    def _close(self, yield_to_waiter: bool = False) -> None:
        if yield_to_waiter:
            self.yield_until = time.monotonic() + _YIELD
        if self.con is not None:
            con, self.con = self.con, None
            with contextlib.suppress(duckdb.Error):
                con.close()
        self.file_lock.release()  # after the instance is gone: never a moment open without it

    def _watch(self) -> None:
        while True:
            if _stopping.wait(_POLL):
                return
            with self.lock:
                if self.con is None:
                    self._watcher = None
                    return
                waiting = self.users == 0 and self._someone_waiting()
                if waiting or (self.users == 0 and time.monotonic() - self.last_release > self.idle_timeout):
                    self._close(yield_to_waiter=waiting)
                    self._watcher = None
                    self.idle.notify_all()
                    return

    # -- public -----------------------------------------------------------------------
    @contextlib.contextmanager
    def cursor(self, write: bool) -> Iterator[duckdb.DuckDBPyConnection]:
        held = getattr(_held, "n", 0)
        with self.lock:
            if self.con is not None and self.read_only and write:
                if held:
                    raise RuntimeError(
                        "a write was started while this thread holds a read-only cursor on the store; "
                        "finish the read first"
                    )
                # Upgrade: wait until this process's readers are done, then reopen read-write.
                while self.users:
                    self.idle.wait()
                self._close()
            if self.con is None:
                self._open(write)
            assert self.con is not None
            cur = self.con.cursor()
            self.users += 1
        _held.n = held + 1
        try:
            yield cur
        finally:
            _held.n = held
            with contextlib.suppress(duckdb.Error):
                cur.close()
            with self.lock:
                self.users -= 1
                self.last_release = time.monotonic()
                if self.users == 0:
                    self.idle.notify_all()
                    if self._someone_waiting():
                        self._close(yield_to_waiter=True)
                    elif self.idle_timeout <= 0:
                        self._close()

    def close(self) -> None:
        with self.lock:
            while self.users:
                self.idle.wait()
            self._close()


_held = threading.local()
_stopping = threading.Event()


_managers: dict[Path, _Manager] = {}
_managers_lock = threading.Lock()


def manager(path: str | os.PathLike[str]) -> _Manager:
    p = Path(path).expanduser().resolve()
    with _managers_lock:
        m = _managers.get(p)
        if m is None:
            m = _managers[p] = _Manager(p)
        return m


@contextlib.contextmanager
def connect(path: str | os.PathLike[str], write: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor on the store; hold it only as long as one operation needs it."""
    with manager(path).cursor(write) as cur:
        yield cur


def release(path: str | os.PathLike[str]) -> None:
    """Close this process's instance on ``path`` now (tests, shutdown)."""
    manager(path).close()


def translate_readonly(exc: duckdb.Error) -> Exception:
    msg = str(exc)
    if "read-only" in msg or "read only" in msg:
        return ReadOnlyError(
            "this connection is read-only: the statement would change the store. Use the "
            "feature-store API (or a stage command) to write; `spotcast-store sql` only reads."
        )
    return exc


_inherited: list[Any] = []


def _forget_in_child() -> None:
    """A child made by fork starts with no instance: the parent's DuckDB state is not fork-safe
    (closing it here could even checkpoint into the parent's file), so it is kept alive and never
    used; the child's copy of the lock file's descriptor is closed, so the child does not hold
    the parent's ``flock`` after the parent lets go (no ``LOCK_UN``: the parent keeps it)."""
    for m in _managers.values():
        if m.con is not None:
            _inherited.append(m.con)
            m.con = None
        if m.file_lock.fd is not None:
            with contextlib.suppress(OSError):
                os.close(m.file_lock.fd)
            m.file_lock.fd = None
        m.lock = threading.RLock()
        m.idle = threading.Condition(m.lock)
        m.users = 0
        m._watcher = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)


def _close_all() -> None:
    """At interpreter exit: stop the watchers and close every instance, under each lock."""
    _stopping.set()
    for m in list(_managers.values()):
        with contextlib.suppress(Exception), m.lock:
            m._close()


# Runs before the interpreter joins non-daemon threads (the hook concurrent.futures uses),
# so watchers stop at once instead of idling out; plain atexit is the fallback.
_register = getattr(threading, "_register_atexit", None)
if _register is not None:
    _register(_close_all)
else:  # pragma: no cover
    atexit.register(_close_all)
