"""The spec: a :class:`typing.Protocol` for every stream role.

Nothing here has behaviour. Each docstring states the guarantees of its role and the IDs of the
conformance rules that check them (see :mod:`streamspec.conformance.catalogue`).
"""

from .amenities import (
    BufferedByteDuplex,
    BufferedByteReceiver,
    MemoryObjectReceiver,
    MemoryObjectSender,
    StreamStatistics,
    StrReceiveStream,
    StrSendStream,
    StrStream,
    SupportsBufferedReceive,
    SupportsClone,
    SupportsReceiveNowait,
    SupportsSendNowait,
    SupportsStatistics,
    SupportsSyncClose,
    SupportsUnwrap,
    TLSByteStream,
)
from .byte_streams import (
    AnyByteReceiveStream,
    AnyByteSendStream,
    AnyByteStream,
    AnyUnreliableByteReceiveStream,
    AnyUnreliableByteSendStream,
    AnyUnreliableByteStream,
    ByteReceiveStream,
    ByteSendStream,
    ByteStream,
)
from .connectables import AnyByteStreamConnectable, ByteStreamConnectable, ObjectStreamConnectable
from .listeners import Listener
from .object_streams import (
    ObjectReceiveStream,
    ObjectSendStream,
    ObjectStream,
    UnreliableObjectReceiveStream,
    UnreliableObjectSendStream,
    UnreliableObjectStream,
)
from .resources import AsyncResource, TypedAttributeProvider

__all__ = [
    # resources and attributes
    "AsyncResource",
    "TypedAttributeProvider",
    # object streams
    "UnreliableObjectReceiveStream",
    "UnreliableObjectSendStream",
    "UnreliableObjectStream",
    "ObjectReceiveStream",
    "ObjectSendStream",
    "ObjectStream",
    # byte streams
    "ByteReceiveStream",
    "ByteSendStream",
    "ByteStream",
    "AnyByteReceiveStream",
    "AnyByteSendStream",
    "AnyByteStream",
    "AnyUnreliableByteReceiveStream",
    "AnyUnreliableByteSendStream",
    "AnyUnreliableByteStream",
    # listeners and connectables
    "Listener",
    "ByteStreamConnectable",
    "ObjectStreamConnectable",
    "AnyByteStreamConnectable",
    # amenities
    "SupportsClone",
    "SupportsSyncClose",
    "SupportsSendNowait",
    "SupportsReceiveNowait",
    "SupportsStatistics",
    "StreamStatistics",
    "SupportsBufferedReceive",
    "SupportsUnwrap",
    # combined roles
    "MemoryObjectReceiver",
    "MemoryObjectSender",
    "BufferedByteReceiver",
    "BufferedByteDuplex",
    "TLSByteStream",
    "StrReceiveStream",
    "StrSendStream",
    "StrStream",
]
