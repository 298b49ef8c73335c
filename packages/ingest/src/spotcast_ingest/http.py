"""One HTTP client for every source: timeouts, bounded retries, bounded concurrency, a disk cache.

Sources never talk to httpx directly, so politeness (a User-Agent naming spotcast, at most
``concurrency`` requests in flight) and robustness (retries with exponential backoff and
jitter on 429/5xx/timeouts, errors that name the URL but never a secret) are the same for
all of them, and a repeated backfill of immutable past days is served from disk.

httpx and tenacity are imported only when a client is made or a URL is built: every source
module imports :class:`Request` and friends at plugin registration, and a command that sends no
request (``spotcast-serve predict``, any ``--help``) should not pay for them.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import tempfile
import threading
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spotcast_ingest import __version__
from spotcast_ingest.errors import SourceError

if TYPE_CHECKING:
    import httpx
    import tenacity

log = logging.getLogger(__name__)

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


def user_agent() -> str:
    """The User-Agent every request sends: names spotcast and the httpx version, so a source's
    operators can tell who calls (imports httpx, hence a function and not a module constant)."""
    import httpx

    return f"spotcast/{__version__} (spotcast-ingest; electricity price forecasting) httpx/{httpx.__version__}"


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return float(raw)
    except ValueError:
        raise SourceError(f"{name}={raw!r} is not a number") from None


@dataclass(frozen=True)
class HttpSettings:
    """How politely and how stubbornly to fetch. ``retries`` counts attempts after the first."""

    timeout: float = 30.0
    retries: int = 4
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    concurrency: int = 8
    cache_dir: Path | None = None

    @classmethod
    def from_env(cls, **overrides: Any) -> HttpSettings:
        """Defaults, then SPOTCAST_HTTP_* and SPOTCAST_CACHE_DIR, then explicit overrides."""
        env: dict[str, Any] = {
            "timeout": _env_float("SPOTCAST_HTTP_TIMEOUT", cls.timeout),
            "retries": int(_env_float("SPOTCAST_HTTP_RETRIES", cls.retries)),
            "backoff_initial": _env_float("SPOTCAST_HTTP_BACKOFF", cls.backoff_initial),
            "concurrency": int(_env_float("SPOTCAST_HTTP_CONCURRENCY", cls.concurrency)),
        }
        if os.environ.get("SPOTCAST_CACHE_DIR"):
            env["cache_dir"] = Path(os.environ["SPOTCAST_CACHE_DIR"]).expanduser()
        env.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**env)
        if settings.concurrency < 1:
            raise SourceError(f"concurrency must be at least 1, got {settings.concurrency}")
        if settings.retries < 0 or settings.timeout <= 0:
            raise SourceError("retries must be >= 0 and timeout > 0")
        return settings


@dataclass(frozen=True)
class Request:
    """One GET. ``cache`` marks an answer that can never change (a past day): it is read from
    disk when there, and kept on disk once the source has parsed it (:meth:`HttpClient.keep`)."""

    url: str
    params: Mapping[str, str] = field(default_factory=dict)
    cache: bool = False
    what: str = ""  # e.g. "SE3 2024-03-31", for error messages

    def full_url(self) -> str:
        import httpx

        return str(httpx.URL(self.url, params=sorted(self.params.items())))


@dataclass(frozen=True)
class Response:
    url: str  # redacted
    status: int
    body: bytes
    from_cache: bool = False
    cache_path: Path | None = None
    cache_key: tuple[str, str] | None = None  # (namespace, full URL) when it may be kept

    @property
    def not_found(self) -> bool:
        return self.status == 404


class DiskCache:
    """Bodies of immutable answers, one file each, keyed by a hash of the full URL.

    Files are written to a temporary name and renamed, so a killed process never leaves a
    half-written entry; concurrent writers of the same key write the same bytes.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, namespace: str, url: str) -> Path:
        key = hashlib.sha256(url.encode()).hexdigest()
        return self.root / namespace / key[:2] / f"{key}.body"

    def get(self, namespace: str, url: str) -> tuple[bytes, Path] | None:
        p = self.path(namespace, url)
        try:
            return p.read_bytes(), p
        except FileNotFoundError:
            return None

    def put(self, namespace: str, url: str, body: bytes) -> None:
        p = self.path(namespace, url)
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(body)
            os.replace(tmp, p)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


class _Transient(Exception):
    """A failure worth retrying (timeout, connection error, 429, 5xx)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


OFFLINE_HINT = "to run offline, use the synthetic market: --source synthetic"


def _unreachable_reason(exc: BaseException) -> str | None:
    """Why a connection can never succeed by retrying (the name does not resolve, the host
    refuses every connection), or None for failures worth a retry."""
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, socket.gaierror):
            return "the host name does not resolve (no network, or a wrong name)"
        if isinstance(e, ConnectionRefusedError):
            return "the host refuses connections (nothing listens on that port)"
        e = e.__cause__ or e.__context__
    text = str(exc)
    if any(w in text for w in ("Name or service not known", "nodename nor servname", "getaddrinfo failed",
                               "Temporary failure in name resolution", "No address associated")):
        return "the host name does not resolve (no network, or a wrong name)"
    if "Connection refused" in text or "[Errno 111]" in text:
        return "the host refuses connections (nothing listens on that port)"
    return None


class _Unreachable(Exception):
    """The host cannot be reached at all: no retry, and no later request to it either."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def secret_forms(secret: str) -> list[str]:
    """A secret as it may appear in text: raw, percent-encoded (as in a URL's query, either case
    of hex digits), form-encoded; longest first so a longer form is replaced whole."""
    forms = {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret, safe=""),
             urllib.parse.quote(secret)}
    for f in list(forms):
        if "%" in f:
            forms.add(_lower_hex(f))
    return sorted((f for f in forms if f), key=len, reverse=True)


def _lower_hex(text: str) -> str:
    import re

    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), text)


class HttpClient:
    """Shared by the sources of one ingest run; thread-safe.

    ``secrets`` are replaced by ``***`` in every message and log line this client produces.
    """

    def __init__(self, settings: HttpSettings | None = None, secrets: Iterable[str] = ()) -> None:
        self.settings = settings or HttpSettings.from_env()
        import httpx

        self._secrets = [s for s in secrets if s]
        self._client = httpx.Client(
            timeout=httpx.Timeout(self.settings.timeout),
            headers={"User-Agent": user_agent(), "Accept": "application/json"},
            limits=httpx.Limits(max_connections=self.settings.concurrency,
                                max_keepalive_connections=self.settings.concurrency),
            follow_redirects=True,
        )
        self._pool = ThreadPoolExecutor(max_workers=self.settings.concurrency, thread_name_prefix="spotcast-http")
        self.cache = DiskCache(self.settings.cache_dir) if self.settings.cache_dir else None
        self._lock = threading.Lock()
        self.sent = 0
        self.cache_hits = 0
        self.retried = 0
        self._unreachable: dict[str, str] = {}  # host -> why; later requests to it fail at once

    # -- secrets --------------------------------------------------------------------------
    def add_secret(self, secret: str) -> None:
        if secret and secret not in self._secrets:
            self._secrets.append(secret)

    def _forms(self) -> list[str]:
        return sorted({f for s in self._secrets for f in secret_forms(s)}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        """``text`` with every secret replaced by ``***``, in every form it may take in a URL."""
        for f in self._forms():
            text = text.replace(f, "***")
        return text

    def holds_secret(self, body: bytes) -> bool:
        """Whether an answer echoes a secret (it must then not be kept on disk)."""
        return any(f.encode() in body for f in self._forms())

    # -- requests ---------------------------------------------------------------------------
    def get(self, request: Request, namespace: str = "http") -> Response:
        """One GET through the cache and the retry policy. 404 is returned, not raised:
        for day-ahead prices it means "not published yet", which only the caller can judge."""
        url = request.full_url()
        shown = self.redact(url)
        if request.cache and self.cache is not None:
            hit = self.cache.get(namespace, url)
            if hit is not None:
                with self._lock:
                    self.cache_hits += 1
                return Response(shown, 200, hit[0], from_cache=True, cache_path=hit[1])
        import tenacity

        s = self.settings
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(s.retries + 1),
            # exponential backoff plus up to one initial step of random jitter
            wait=(tenacity.wait_exponential(multiplier=s.backoff_initial, max=s.backoff_max)
                  + tenacity.wait_random(0, s.backoff_initial)),
            retry=tenacity.retry_if_exception_type(_Transient),
            before_sleep=self._before_sleep(shown),
            reraise=True,
        )
        what = f" ({request.what})" if request.what else ""
        try:
            response = retrying(self._once, url, shown)
        except _Transient as exc:
            raise SourceError(f"GET {shown}{what} failed after {s.retries + 1} attempt(s): {exc.message}") from None
        except _Unreachable as exc:
            raise SourceError(f"GET {shown}{what} failed: {exc.message}; retrying cannot help. Check the network "
                              f"and the source's base URL; {OFFLINE_HINT}") from None
        if response.status_code == 404:
            return Response(shown, 404, response.content)
        if response.status_code >= 400:
            raise SourceError(
                f"GET {shown}{what} answered HTTP {response.status_code}: {self._excerpt(response.content)}")
        key = (namespace, url) if request.cache and self.cache is not None else None
        return Response(shown, response.status_code, response.content, cache_key=key)

    def keep(self, response: Response) -> None:
        """Put an answer that parsed into the disk cache (if its request was marked immutable).
        Sources call this only after parsing, so a malformed answer is asked for again next time."""
        if response.cache_key is not None and self.cache is not None and response.status == 200:
            if self.holds_secret(response.body):  # an answer that echoes the key never goes to disk
                log.debug("not caching %s: the answer holds a secret", response.url)
                return
            self.cache.put(*response.cache_key, response.body)

    def get_many(self, requests: Sequence[Request], namespace: str = "http") -> list[Response]:
        """Many GETs, at most ``concurrency`` in flight (shared with every other caller of this
        client). The first failure (in request order) is raised once the others stopped."""
        futures: list[Future[Response]] = [self._pool.submit(self.get, r, namespace) for r in requests]
        try:
            return [f.result() for f in futures]
        except BaseException:
            for f in futures:
                f.cancel()
            wait(futures)  # requests already in flight finish (and fill the cache) before we raise
            raise

    def _once(self, url: str, shown: str) -> httpx.Response:
        import httpx

        host = httpx.URL(url).host
        with self._lock:
            known = self._unreachable.get(host)
        if known is not None:  # another request already found the host unreachable
            raise _Unreachable(known)
        with self._lock:
            self.sent += 1
        log.debug("GET %s", shown)
        try:
            response = self._client.get(url)
        except httpx.TimeoutException:
            raise _Transient(f"no answer within the {self.settings.timeout:g}s timeout") from None
        except httpx.TransportError as exc:
            reason = _unreachable_reason(exc) if isinstance(exc, httpx.ConnectError) else None
            if reason is not None:
                message = f"cannot connect to {host}: {reason}"
                with self._lock:
                    self._unreachable[host] = message
                raise _Unreachable(message) from None
            raise _Transient(self.redact(f"{type(exc).__name__}: {exc}")) from None
        if response.status_code in RETRY_STATUS:
            raise _Transient(f"HTTP {response.status_code}: {self._excerpt(response.content)}")
        return response

    def _before_sleep(self, shown: str) -> Any:
        def hook(state: tenacity.RetryCallState) -> None:
            with self._lock:
                self.retried += 1
            exc = state.outcome.exception() if state.outcome else None
            msg = exc.message if isinstance(exc, _Transient) else repr(exc)
            wait = state.next_action.sleep if state.next_action else 0.0
            log.warning("GET %s: %s; retry %d in %.1fs", shown, msg, state.attempt_number, wait)

        return hook

    def _excerpt(self, body: bytes, n: int = 200) -> str:
        """The start of an answer for an error message: redacted first, then cut, so a secret
        that straddles the cut cannot leak its beginning."""
        text = self.redact(body.decode("utf-8", "replace")).strip().replace("\n", " ")
        return (text[:n] + ("..." if len(text) > n else "")) or "(empty body)"

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._client.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
