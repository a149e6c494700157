"""Targets: what the conformance suite tests.

A target bundles the factories of one implementation. It is named on the command line as
``module`` or ``module:attribute``; the object found there is either a :class:`Target` or a
namespace exposing AnyIO-style names (``create_memory_object_stream``, ``StapledByteStream``,
``TLSStream``...), which :meth:`Target.from_namespace` turns into one. A factory left as
``None`` means the target does not provide that role: its rules are reported as not provided,
never as passed.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import ModuleType
from typing import Any, Literal, get_args

from ..protocols import (
    ByteReceiveStream,
    ByteSendStream,
    ByteStream,
    Listener,
    ObjectReceiveStream,
    ObjectSendStream,
    UnreliableObjectReceiveStream,
    UnreliableObjectSendStream,
)

__all__ = [
    "ANYIO_NAMES",
    "ByteStreamPairFactory",
    "Divergence",
    "ItemKind",
    "ListenerFactory",
    "ObjectStreamPairFactory",
    "OneWayByteStreamFactory",
    "Target",
    "UnreliableObjectStreamFactory",
    "load_target",
    "target_file",
]

#: Opens a connected pair of byte streams (``left``, ``right``): what one sends the other
#: receives, in both directions, and ``send_eof`` is supported. Leaving the context closes both.
ByteStreamPairFactory = Callable[[], AbstractAsyncContextManager[tuple[ByteStream, ByteStream]]]
#: Opens a one-way byte stream: (send end, receive end).
OneWayByteStreamFactory = Callable[
    [], AbstractAsyncContextManager[tuple[ByteSendStream, ByteReceiveStream]]
]
#: Opens a reliable object stream: (send end, receive end).
ObjectStreamPairFactory = Callable[
    [], AbstractAsyncContextManager[tuple[ObjectSendStream[Any], ObjectReceiveStream[Any]]]
]
#: Opens an unreliable object stream (a connected datagram socket, say): (send end, receive
#: end). Items may be lost or reordered, but never cut, merged, corrupted or invented.
UnreliableObjectStreamFactory = Callable[
    [],
    AbstractAsyncContextManager[
        tuple[UnreliableObjectSendStream[Any], UnreliableObjectReceiveStream[Any]]
    ],
]
#: What the target's own object streams (``object_stream_pair``, ``unreliable_object_stream``)
#: carry, so that the object rules send only such items: ``"any"`` object (each arrives as the
#: very object sent), ``"picklable"`` objects (each arrives as an equal copy) or ``"bytes"``
#: only (a datagram socket refuses an ``int``). Memory object streams always carry any object.
ItemKind = Literal["any", "picklable", "bytes"]
#: Opens a listener of byte streams and a coroutine function that connects a client to it.
ListenerFactory = Callable[
    [],
    AbstractAsyncContextManager[tuple[Listener[ByteStream], Callable[[], Awaitable[ByteStream]]]],
]


@dataclass(frozen=True)
class Divergence:
    """A rule the target is known to break: reported as a known divergence, not a failure.

    When the rule passes after all, the entry is stale and the report says so.
    """

    #: The rule ID (a key of :data:`~streamspec.conformance.catalogue.RULES`).
    rule: str
    #: Why the target diverges, in a sentence.
    reason: str
    #: Where the divergence is discussed or tracked (an issue, a doc section).
    link: str = ""
    #: The AnyIO backends on which the target diverges (``"asyncio"``, which covers uvloop,
    #: and ``"trio"``); empty: all.
    #: On any other backend the rule must pass.
    backends: tuple[str, ...] = ()


#: AnyIO-style public names -> the :class:`Target` field each fills.
ANYIO_NAMES: Mapping[str, str] = {
    "create_memory_object_stream": "create_memory_object_stream",
    "StapledByteStream": "stapled_byte_stream",
    "StapledObjectStream": "stapled_object_stream",
    "MultiListener": "multi_listener",
    "BufferedByteReceiveStream": "buffered_byte_receive_stream",
    "BufferedByteStream": "buffered_byte_stream",
    "TextReceiveStream": "text_receive_stream",
    "TextSendStream": "text_send_stream",
    "TextStream": "text_stream",
    "TLSStream": "tls_stream",
    "TLSListener": "tls_listener",
}


@dataclass(frozen=True)
class Target:
    """One implementation under test: a name, its factories and its known divergences.

    The AnyIO-style fields take the class or function of that name (same signature as
    AnyIO 4.16's). The explicit factories serve streams that have no such names; each takes
    one factory, or a mapping of names to factories when the target has several streams of
    that role (AnyIO's TCP and UNIX sockets, say): every one becomes a subject of its own,
    named by its key, and wrappers are put over the first.
    """

    name: str
    # -- AnyIO-style names -----------------------------------------------------------------
    create_memory_object_stream: Callable[..., tuple[Any, Any]] | None = None
    stapled_byte_stream: Callable[..., Any] | None = None
    stapled_object_stream: Callable[..., Any] | None = None
    multi_listener: Callable[..., Any] | None = None
    buffered_byte_receive_stream: Callable[..., Any] | None = None
    buffered_byte_stream: Callable[..., Any] | None = None
    text_receive_stream: Callable[..., Any] | None = None
    text_send_stream: Callable[..., Any] | None = None
    text_stream: Callable[..., Any] | None = None
    #: A class with AnyIO's ``wrap(transport, *, server_side, hostname, ssl_context,
    #: standard_compatible)`` classmethod.
    tls_stream: Any = None
    tls_listener: Callable[..., Any] | None = None
    # -- explicit factories for custom streams ----------------------------------------------
    byte_stream_pair: ByteStreamPairFactory | Mapping[str, ByteStreamPairFactory] | None = None
    one_way_byte_stream: OneWayByteStreamFactory | Mapping[str, OneWayByteStreamFactory] | None = (
        None
    )
    object_stream_pair: ObjectStreamPairFactory | Mapping[str, ObjectStreamPairFactory] | None = (
        None
    )
    unreliable_object_stream: (
        UnreliableObjectStreamFactory | Mapping[str, UnreliableObjectStreamFactory] | None
    ) = None
    listener: ListenerFactory | Mapping[str, ListenerFactory] | None = None
    # -- declarations and expectations ----------------------------------------------------------
    #: What the explicit object factories' streams carry (see :data:`ItemKind`).
    object_items: ItemKind = "any"
    known_divergences: tuple[Divergence, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.object_items not in get_args(ItemKind):
            raise ValueError(
                f"object_items must be one of {', '.join(map(repr, get_args(ItemKind)))}, "
                f"got {self.object_items!r}"
            )
        for name in _EXPLICIT_NAMES:
            value = getattr(self, name)
            if isinstance(value, Mapping) and not value:
                raise ValueError(f"{name} is an empty mapping: give a factory, or None")

    def provides(self, field_name: str) -> bool:
        """Whether the factory ``field_name`` is set."""
        return getattr(self, field_name) is not None

    def provides_nothing(self) -> bool:
        """Whether every factory is unset: such a target can only be a mistake."""
        return not any(getattr(self, name) is not None for name in _FACTORY_NAMES)

    def factories(self, field_name: str) -> list[tuple[str, Any]]:
        """The factories of the explicit field ``field_name``, each with the name its subject
        carries: the field's name for a single factory, the key for each of a mapping."""
        value = getattr(self, field_name)
        if value is None:
            return []
        if isinstance(value, Mapping):
            return list(value.items())
        return [(field_name, value)]

    def divergence(self, rule_id: str, backend: str | None = None) -> Divergence | None:
        """The known divergence recorded for ``rule_id`` (on ``backend``, if given), if any."""
        for entry in self.known_divergences:
            if entry.rule == rule_id and (
                backend is None or not entry.backends or backend in entry.backends
            ):
                return entry
        return None

    @classmethod
    def from_namespace(
        cls,
        namespace: ModuleType | object,
        *,
        name: str,
        known_divergences: tuple[Divergence, ...] = (),
        **factories: Any,
    ) -> Target:
        """Build a target from an object exposing AnyIO-style names (a module, a class).

        Names it lacks are left unprovided; ``factories`` sets or overrides fields by name.
        """
        found = {
            field_name: getattr(namespace, public, None)
            for public, field_name in ANYIO_NAMES.items()
        }
        return cls(name=name, known_divergences=known_divergences, **{**found, **factories})


_FIELD_NAMES = frozenset(f.name for f in fields(Target))
#: The explicit factory fields, which take one factory or a mapping of named ones.
_EXPLICIT_NAMES = (
    "byte_stream_pair",
    "one_way_byte_stream",
    "object_stream_pair",
    "unreliable_object_stream",
    "listener",
)
_FACTORY_NAMES = _FIELD_NAMES - {"name", "object_items", "known_divergences"}

#: Short names for the built-in targets.
BUILTIN_TARGETS: Mapping[str, str] = {
    "streamspec": "streamspec.conformance.targets:STREAMSPEC",
    "anyio": "streamspec.conformance.targets:ANYIO",
    "trio": "streamspec.conformance.targets_trio:TRIO",
    "asyncio": "streamspec.conformance.targets_asyncio:ASYNCIO",
}


def load_target(spec: str, *, directory: str | os.PathLike[str] | None = None) -> Target:
    """Resolve ``module`` or ``module:attribute`` (or a built-in short name) to a Target.

    A module or attribute that is not a :class:`Target` is read as an AnyIO-style namespace.

    :param directory: searched for the module first, as ``python -m`` searches the current
        directory (it stays on :data:`sys.path`, for the target's own later imports). The
        command line and the pytest plugin both pass the directory they were started in, so
        that both find the same targets.

    :raises ValueError: ``spec`` is empty or malformed.
    :raises LookupError: the module or attribute does not exist, or is neither a Target nor a
        namespace with any of AnyIO's names (a mistyped target would otherwise pass, with
        every rule "not provided").
    """
    if not spec or spec.count(":") > 1:
        raise ValueError(f"target must be 'module' or 'module:attribute', got {spec!r}")
    spec = BUILTIN_TARGETS.get(spec, spec)
    _search_first(directory)
    module_name, _, attribute = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise LookupError(f"target module {module_name!r} cannot be imported: {exc}") from exc
    except Exception as exc:
        # The target's own code failed while it was imported: a usage error of the run, told
        # where, not a traceback through the suite's loader.
        raise LookupError(
            f"target module {module_name!r} raised {type(exc).__name__}: {exc} "
            f"while being imported{_where(exc)}"
        ) from exc
    obj: object = module
    if attribute:
        try:
            obj = getattr(module, attribute)
        except AttributeError:
            raise LookupError(f"module {module_name!r} has no attribute {attribute!r}") from None
    if isinstance(obj, Target):
        return obj
    target = Target.from_namespace(obj, name=spec)
    if target.provides_nothing():
        hint = ""
        if not attribute:
            found = sorted(
                name for name, value in vars(module).items() if isinstance(value, Target)
            )
            if found:
                hint = "; did you mean " + " or ".join(f"{spec}:{name}" for name in found) + "?"
        raise LookupError(
            f"{spec!r} ({type(obj).__name__}) is neither a Target nor a namespace with any of "
            f"AnyIO's names (such as create_memory_object_stream or TLSStream){hint}"
        )
    return target


def _where(exc: BaseException) -> str:
    """`` (at file:line)`` of the innermost frame of ``exc``'s traceback, or nothing."""
    tb = exc.__traceback__
    if tb is None:
        return ""
    while tb.tb_next is not None:
        tb = tb.tb_next
    return f" (at {tb.tb_frame.f_code.co_filename}:{tb.tb_lineno})"


def target_file(spec: str, *, directory: str | os.PathLike[str] | None = None) -> Path | None:
    """The file of the module that ``spec`` names (searched as :func:`load_target` searches),
    without running it; ``None`` when it cannot be found or is no file."""
    _search_first(directory)
    module_name = BUILTIN_TARGETS.get(spec, spec).partition(":")[0]
    try:
        found = importlib.util.find_spec(module_name)
    except (ImportError, ValueError):
        return None
    if found is None or not found.has_location or found.origin is None:
        return None
    return Path(found.origin).resolve()


def _search_first(directory: str | os.PathLike[str] | None) -> None:
    if directory is not None and os.fspath(directory) not in sys.path:
        sys.path.insert(0, os.fspath(directory))


assert set(ANYIO_NAMES.values()) <= _FIELD_NAMES
