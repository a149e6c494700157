"""Argument checks shared by the reference streams, so every one words its errors alike, and
the one way they tell a byte stream from an object stream of bytes."""

from __future__ import annotations

import inspect
import operator
from typing import Any

import anyio.abc

__all__ = ["connectable", "count", "takes_max_bytes"]


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


_POSITIONAL = (
    inspect.Parameter.POSITIONAL_ONLY,
    inspect.Parameter.POSITIONAL_OR_KEYWORD,
    inspect.Parameter.VAR_POSITIONAL,
)


def takes_max_bytes(stream: Any) -> bool:
    """Tell a byte stream, whose ``receive()`` takes ``max_bytes``, from an object stream of
    bytes, whose ``receive()`` takes nothing.

    A stream that declares itself by inheriting from one of AnyIO's two classes is taken at
    its word. Otherwise it is judged by the signature, because a conforming stream need not
    inherit from any AnyIO class (only *our* classes do, decision 5 in docs/design.rst): a
    positional parameter can take ``max_bytes``, a keyword-only option (a timeout, say) cannot.
    A ``receive`` that cannot be introspected is taken to be the argument-free kind, which is
    the safe guess: it is never passed an argument it might not accept.
    """
    if isinstance(stream, anyio.abc.ByteReceiveStream):
        return True
    if isinstance(stream, anyio.abc.ObjectReceiveStream):
        return False
    try:
        parameters = inspect.signature(stream.receive).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.kind in _POSITIONAL for p in parameters)


def connectable(name: str, value: Any) -> None:
    """Raise a TypeError naming the argument unless ``value`` has a callable ``connect``, so a
    wrapping connectable given something else fails when made, not at its first connect."""
    if not callable(getattr(value, "connect", None)):
        raise TypeError(
            f"{name} must be a connectable (with a connect() method), not {type(value).__name__}"
        )
