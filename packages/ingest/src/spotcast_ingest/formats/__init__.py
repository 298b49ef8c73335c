"""Parsers of each API's answer format: pure functions from decoded JSON (or a file) to frames
in contract shape. They raise :class:`~spotcast_ingest.errors.ParseError` naming the URL and
day instead of returning an empty or partial frame."""

from __future__ import annotations

import json
from typing import Any

from spotcast_ingest.errors import ParseError


def decode_json(body: bytes, where: str) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        excerpt = body[:80].decode("utf-8", "replace").replace("\n", " ")
        raise ParseError(f"{where}: the answer is not valid JSON ({exc}); it starts with {excerpt!r}") from None
