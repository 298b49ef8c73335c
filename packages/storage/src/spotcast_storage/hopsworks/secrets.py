"""Keep the Hopsworks API key out of logs and error messages.

The client puts the key in request headers only, but errors and debug logs of the layers
below it (requests, urllib3, the client's own) can echo what they were given, and a CLI
prints errors verbatim. So every log record of the process and every error this backend
raises passes through :func:`redact` first.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator
from typing import Any

from spotcast_storage.errors import BackendUnavailableError, NotFoundError, SpotcastError

MASK = "***"
_MIN_SECRET_LEN = 6  # shorter strings would mask ordinary words
_secrets: set[str] = set()
_lock = threading.Lock()
_installed = False


class HopsworksError(SpotcastError):
    """The Hopsworks cluster or its client refused or failed an operation."""


def add_secret(value: str | None) -> None:
    """Remember ``value`` so that it is masked wherever it would be printed or logged."""
    if value and len(value.strip()) >= _MIN_SECRET_LEN:
        with _lock:
            _secrets.add(value)
            _secrets.add(value.strip())
    _install_log_redaction()


def known_secrets() -> set[str]:
    env = os.environ.get("HOPSWORKS_API_KEY")
    with _lock:
        found = set(_secrets)
    if env and len(env.strip()) >= _MIN_SECRET_LEN:
        found |= {env, env.strip()}
    return found


def redact(text: Any) -> str:
    out = str(text)
    for s in sorted(known_secrets(), key=len, reverse=True):
        out = out.replace(s, MASK)
    return out


def _install_log_redaction() -> None:
    """Wrap the log-record factory once, so records from any logger (the client's, requests',
    urllib3's, ours) are masked before any handler formats them."""
    global _installed
    with _lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            secrets = known_secrets()
            if not secrets:
                return record
            try:
                message = record.getMessage()
            except Exception:  # a malformed record is logging's problem, not ours
                return record
            if any(s in message for s in secrets):
                record.msg, record.args = redact(message), None
            if record.exc_info and record.exc_info[1] is not None:
                text = logging.Formatter().formatException(record.exc_info)
                if any(s in text for s in secrets):
                    record.exc_text = redact(text)
                    record.exc_info = None
            return record

        logging.setLogRecordFactory(factory)
        _installed = True


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    code = getattr(response, "status_code", None)
    return code if isinstance(code, int) else None


def translate(exc: BaseException, action: str) -> SpotcastError:
    """A spotcast error for a client failure: what failed, the cluster's reason, no secret."""
    if isinstance(exc, SpotcastError):
        return type(exc)(redact(exc)) if any(s in str(exc) for s in known_secrets()) else exc
    status = _status(exc)
    reason = redact(getattr(exc, "user_message", "") or exc) or type(exc).__name__
    if status in (401, 403):
        return BackendUnavailableError(
            f"Hopsworks refused to {action} (HTTP {status}): {reason}. Check that HOPSWORKS_API_KEY "
            "(value not shown) is valid for HOPSWORKS_PROJECT and has the feature store and model "
            "registry scopes."
        )
    if status == 404:
        return NotFoundError(f"Hopsworks could not {action}: not found ({reason})")
    return HopsworksError(f"Hopsworks could not {action}: {type(exc).__name__}: {reason}")


@contextlib.contextmanager
def guard(action: str) -> Iterator[None]:
    """Run client calls; any failure becomes a SpotcastError whose text holds no secret.

    The new error drops its ``__context__``, so a traceback printer cannot reach the
    client's original message either."""
    err: SpotcastError | None = None
    try:
        yield
    except Exception as exc:
        err = translate(exc, action)
        if err is exc:
            raise
    if err is not None:
        try:
            raise err
        finally:
            err.__context__ = None
            err.__suppress_context__ = True
