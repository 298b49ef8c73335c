"""Words in output people read, the same in every stage: counts with the right plural."""

from __future__ import annotations


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 commit``, ``3 commits``, ``0 commits``; ``many`` for an irregular plural
    (``plural(2, "batch", "batches")``)."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"

