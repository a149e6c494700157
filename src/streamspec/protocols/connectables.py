"""Connectables: things that open a new connection on demand, each call a fresh stream.

A connectable is the client side's counterpart of a :class:`~.listeners.Listener`: it knows
where to connect (an address, a path, another connectable to wrap) and makes one stream per
``connect()``. Wrapping connectables (buffered, text, TLS) add a layer to every stream the
wrapped one makes. AnyIO's ``TCPConnectable`` and ``UNIXConnectable`` fit these roles.
"""

from __future__ import annotations

from typing import Protocol, TypeAlias, runtime_checkable

from ._typevars import T
from .byte_streams import ByteStream
from .object_streams import ObjectStream

__all__ = ["AnyByteStreamConnectable", "ByteStreamConnectable", "ObjectStreamConnectable"]


@runtime_checkable
class ObjectStreamConnectable(Protocol[T]):
    """Opens object streams of ``T`` to one remote endpoint.

    ``T`` is invariant, as the bidirectional streams it makes are (AnyIO declares it
    covariant, which its streams' invariance does not allow).
    """

    async def connect(self) -> ObjectStream[T]:
        """Open a new connection and return its stream; the caller owns it and closes it.

        :raises ~anyio.ConnectionFailed: no connection could be made. A wrapping connectable
            whose own set-up fails (a TLS handshake, say) closes the stream it got and
            raises that failure.
        """
        ...


@runtime_checkable
class ByteStreamConnectable(Protocol):
    """Opens byte streams to one remote endpoint."""

    async def connect(self) -> ByteStream:
        """Open a new connection and return its stream; the caller owns it and closes it.

        :raises ~anyio.ConnectionFailed: no connection could be made. A wrapping connectable
            whose own set-up fails (a TLS handshake, say) closes the stream it got and
            raises that failure.
        """
        ...


#: What a wrapping connectable accepts: one that opens byte streams or object streams of bytes.
AnyByteStreamConnectable: TypeAlias = ObjectStreamConnectable[bytes] | ByteStreamConnectable
