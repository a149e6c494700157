"""Closeable resources and typed attributes: the base of every stream role."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Protocol, overload, runtime_checkable

from typing_extensions import Self

from ._typevars import T_Attr, T_Default

__all__ = ["AsyncResource", "TypedAttributeProvider"]


@runtime_checkable
class AsyncResource(Protocol):
    """Something that holds resources and must be closed with ``await aclose()``.

    It is an async context manager: ``async with resource as r`` binds ``r`` to the resource
    itself and closes it when the block exits, normally or by an exception, without suppressing
    that exception. [RES-CONTEXT]
    """

    async def aclose(self) -> None:
        """Close the resource and release what it holds.

        Guarantees:

        * Idempotent: calling it on a closed resource returns at once and raises nothing.
          [RES-ACLOSE-IDEMPOTENT]
        * Closing happens even when the calling scope is cancelled: the resource is closed
          before the cancellation propagates, so a cancelled ``aclose()`` never leaks.
          [RES-ACLOSE-CANCELLED]
        * Tasks blocked in an operation on this resource are woken with
          :exc:`~anyio.ClosedResourceError` (see each role for the details).

        A graceful close may need to talk to the peer (a TLS ``close_notify``); if that fails,
        the resource is closed all the same and the failure is not raised. [TLS-ACLOSE-QUIET]
        """
        ...

    async def __aenter__(self) -> Self:
        """Return the resource itself."""
        ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
        /,
    ) -> bool | None:
        """Close the resource with :meth:`aclose`; never suppress the block's exception."""
        ...


@runtime_checkable
class TypedAttributeProvider(Protocol):
    """Something that answers typed questions about itself through :meth:`extra`.

    Keys are the members of :class:`anyio.TypedAttributeSet` subclasses, such as
    :attr:`anyio.abc.SocketAttribute.remote_address` or
    :attr:`anyio.streams.tls.TLSAttribute.alpn_protocol`. One key works across every
    implementation: streamspec defines no keys of its own for what AnyIO already names.
    """

    @property
    def extra_attributes(self) -> Mapping[Any, Callable[[], Any]]:
        """Map each provided key to a callable that computes its current value.

        A wrapper includes the attributes of the stream it wraps, and may override some of
        them. The mapping is computed on access; callers should not keep it.
        """
        ...

    @overload
    def extra(self, attribute: T_Attr, /) -> T_Attr: ...
    @overload
    def extra(self, attribute: T_Attr, default: T_Default, /) -> T_Attr | T_Default: ...
    def extra(self, attribute: Any, default: Any = ..., /) -> Any:
        """Return the value of a typed attribute.

        ``extra(key)`` returns ``extra_attributes[key]()``. For a key that is not provided it
        raises :exc:`~anyio.TypedAttributeLookupError`; ``extra(key, default)`` returns
        ``default`` instead. [ATTR-LOOKUP]
        """
        ...
