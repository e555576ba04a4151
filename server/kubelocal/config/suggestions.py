"""Closest-match suggestions for misspelt keys, features and token types."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to `word`, compared case-insensitively; None when none is close.

    Returns the candidate's own spelling (`volumemount` -> `volumeMounts`).
    """
    by_lower = {candidate.lower(): candidate for candidate in candidates}
    matches = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[matches[0]] if matches else None
