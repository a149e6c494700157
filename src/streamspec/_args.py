"""Argument checks shared by every public constructor and function of the package, so all of
them word their errors alike, and the one way they tell a byte stream from an object stream of
bytes.

The policy (the project's rule for bad input): a bad argument raises at the call, before anything
changes, :exc:`TypeError` for the wrong kind of value and :exc:`ValueError` for a value of the
right kind out of range, and the message starts with the argument's name. Each helper here
returns the value it checked (converted where that is part of the check, such as an
``__index__`` object to an ``int``), so a call site reads ``size = count("size", size, 1)``.

Messages have two shapes: ``"<name> must be <what>, not <type>"`` (TypeError) and
``"<name> must be <what>, got <value>"`` (ValueError).

On a hot path, guard the call with the cheap test of the common case, so that a good argument
costs no call::

    if type(max_bytes) is not int or max_bytes < 1:
        max_bytes = count("max_bytes", max_bytes, 1)

(``type(x) is not int`` is also what turns a ``bool`` away: ``bool`` is a subclass of ``int``.)

Streams are judged by duck typing (:func:`provides`): the methods the caller will use must be
there and callable. No ``isinstance`` of AnyIO's classes, because a conforming stream need not
inherit from any of them (only *our* classes do, decision 5 in docs/design.rst).
"""

from __future__ import annotations

import inspect
import math
import numbers
import operator
from typing import Any, TypeVar

import anyio.abc

__all__ = [
    "connectable",
    "count",
    "duration",
    "flag",
    "function",
    "instance",
    "provides",
    "serve_arguments",
    "string",
    "takes_max_bytes",
]

_T = TypeVar("_T")


def _type_name(value: object) -> str:
    return "None" if value is None else type(value).__name__


def count(name: str, value: int, minimum: int) -> int:
    """Return ``value`` as an int, or raise naming the argument.

    :raises TypeError: ``value`` is a ``bool`` (``True`` is almost certainly a mistake for a
        count), or not an integer (anything without ``__index__``: ``1.0``, ``"3"``, None).
    :raises ValueError: ``value`` is below ``minimum``.
    """
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an int, not bool")
    try:
        counted = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an int, not {_type_name(value)}") from None
    if counted < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {counted}")
    return counted


def duration(name: str, value: object, *, positive: bool = False, finite: bool = False) -> float:
    """Return ``value``, a number of seconds, as a float, or raise naming the argument.

    Any real number but a ``bool`` is accepted (an int, a float, a ``Fraction``);
    ``math.inf`` means "no limit", unless ``finite``.

    :param positive: refuse 0 as well as negative durations.
    :param finite: refuse ``math.inf`` (and an int too large for a float), for a duration that
        must end.
    :raises TypeError: ``value`` is a ``bool`` or not a real number (``"5"``, None).
    :raises ValueError: ``value`` is NaN or negative (or 0 when ``positive``, or infinite when
        ``finite``).
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number of seconds, not {_type_name(value)}")
    try:
        seconds = float(value)
    except OverflowError:  # an int beyond any float: no clock can count it
        seconds = math.inf
    if (
        math.isnan(seconds)
        or seconds < 0
        or (positive and seconds == 0)
        or (finite and math.isinf(seconds))
    ):
        what = "a positive" if positive else "a non-negative"
        if finite:
            what += " finite"
        raise ValueError(f"{name} must be {what} number of seconds, got {value!r:.40}")
    return seconds


def flag(name: str, value: object) -> bool:
    """Return ``value`` if it is a ``bool``; a truthy string such as ``"no"`` is refused.

    :raises TypeError: ``value`` is not a ``bool``.
    """
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, not {_type_name(value)}")
    return value


def string(name: str, value: object) -> str:
    """Return ``value`` if it is a ``str`` without NUL characters (which no name, encoding or
    host name may hold, and which C APIs would cut the string at).

    :raises TypeError: ``value`` is not a ``str``.
    :raises ValueError: ``value`` holds a NUL character.
    """
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {_type_name(value)}")
    if "\0" in value:
        raise ValueError(f"{name} must not contain NUL characters, got {value!r}")
    return value


def instance(name: str, value: object, cls: type[_T]) -> _T:
    """Return ``value`` if it is an instance of ``cls`` (for arguments that are not roles, such
    as an :class:`ssl.SSLContext`; a stream is checked with :func:`provides` instead).

    :raises TypeError: ``value`` is not an instance of ``cls``.
    """
    if not isinstance(value, cls):
        raise TypeError(f"{name} must be a {cls.__qualname__}, not {_type_name(value)}")
    return value


def function(name: str, value: _T) -> _T:
    """Return ``value`` if it is callable.

    :raises TypeError: ``value`` is not callable.
    """
    if not callable(value):
        raise TypeError(f"{name} must be callable, not {_type_name(value)}")
    return value


def provides(name: str, value: _T, *methods: str, what: str = "a stream") -> _T:
    """Return ``value`` if it has every one of ``methods``, callable: the duck-typed test of a
    stream (or listener) argument, made once at construction so that a wrong object fails
    there, naming the argument, rather than with an :exc:`AttributeError` at first use.

    Name the methods the caller will call, and ``aclose`` if it will close the stream: for a
    receive stream ``provides("receive_stream", s, "receive", "aclose")``. Typed attributes are
    not required (AnyIO's streams always have them, and wrappers read them lazily).

    :param what: what ``value`` should be, for the message: ``"a listener"``, say.
    :raises TypeError: ``value`` lacks one of ``methods``; the message names the first missing.
    """
    for method in methods:
        if not callable(getattr(value, method, None)):
            raise TypeError(f"{name} must be {what} with {method}(), not {_type_name(value)}")
    return value


def serve_arguments(handler: object, task_group: object) -> None:
    """Check the arguments of a listener's ``serve(handler, task_group=None)``, before it
    accepts anything: otherwise a bad handler would fail in each connection's task, far from
    the call.

    :raises TypeError: ``handler`` is not callable, or ``task_group`` is neither None nor
        something with ``start_soon()``.
    """
    function("handler", handler)
    if task_group is not None:
        provides("task_group", task_group, "start_soon", what="a task group")


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
