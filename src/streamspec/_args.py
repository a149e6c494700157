"""Argument checks shared by the reference streams, so every one words its errors alike."""

from __future__ import annotations

import operator

__all__ = ["count"]


def count(name: str, value: int, minimum: int) -> int:
    """Return ``value`` as an int, or raise naming the argument: TypeError for a non-integer,
    ValueError below ``minimum``.

    Callers guard it with ``type(value) is not int or value < minimum``, so the common case
    costs no call.
    """
    try:
        counted = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, not {type(value).__name__}") from None
    if counted < minimum:
        raise ValueError(f"{name} must be at least {minimum}, not {counted}")
    return counted
