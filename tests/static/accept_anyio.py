"""Static conformance: mypy must accept AnyIO 4.16's own classes where our protocols are expected.

This module is never run; ``make test`` type-checks it with ``mypy --strict``. Each function
body is one assignment that mypy rejects if the class does not fit the protocol.
"""

from __future__ import annotations

from anyio.abc import SocketListener, SocketStream
from anyio.streams.buffered import BufferedByteReceiveStream, BufferedByteStream
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from anyio.streams.stapled import MultiListener, StapledByteStream, StapledObjectStream
from anyio.streams.text import TextReceiveStream, TextSendStream, TextStream
from anyio.streams.tls import TLSListener, TLSStream

import streamspec as ss


def memory_ends(send: MemoryObjectSendStream[int], receive: MemoryObjectReceiveStream[int]) -> None:
    _s: ss.MemoryObjectSender[int] = send
    _r: ss.MemoryObjectReceiver[int] = receive
    _os: ss.ObjectSendStream[int] = send
    _or: ss.ObjectReceiveStream[int] = receive
    _us: ss.UnreliableObjectSendStream[int] = send
    _ur: ss.UnreliableObjectReceiveStream[int] = receive
    _c: ss.SupportsClone = receive
    _sc: ss.SupportsSyncClose = send
    _st: ss.SupportsStatistics = receive
    _ns: ss.SupportsSendNowait[int] = send
    _nr: ss.SupportsReceiveNowait[int] = receive
    _res: ss.AsyncResource = send
    _attr: ss.TypedAttributeProvider = receive


def memory_variance(
    bools_out: MemoryObjectReceiveStream[bool], ints_in: MemoryObjectSendStream[int]
) -> None:
    # A receive stream of bool serves where one of int is expected (covariance) ...
    _r: ss.ObjectReceiveStream[int] = bools_out
    _mr: ss.MemoryObjectReceiver[int] = bools_out
    # ... and a send stream of int where one of bool is expected (contravariance).
    _s: ss.ObjectSendStream[bool] = ints_in
    _ms: ss.MemoryObjectSender[bool] = ints_in


def bytes_object_streams(
    receive: MemoryObjectReceiveStream[bytes], send: MemoryObjectSendStream[bytes]
) -> None:
    _r: ss.AnyByteReceiveStream = receive
    _s: ss.AnyByteSendStream = send
    _ur: ss.AnyUnreliableByteReceiveStream = receive
    _us: ss.AnyUnreliableByteSendStream = send


def stapled(byte: StapledByteStream, obj: StapledObjectStream[int]) -> None:
    _b: ss.ByteStream = byte
    _ab: ss.AnyByteStream = byte
    _o: ss.ObjectStream[int] = obj
    _u: ss.UnreliableObjectStream[int] = obj
    _n: ss.SupportsSendNowait[int] = obj


def buffered(receive: BufferedByteReceiveStream, both: BufferedByteStream) -> None:
    _r: ss.BufferedByteReceiver = receive
    _br: ss.ByteReceiveStream = receive
    _sb: ss.SupportsBufferedReceive = receive
    _d: ss.BufferedByteDuplex = both
    _b: ss.ByteStream = both


def text(receive: TextReceiveStream, send: TextSendStream, both: TextStream) -> None:
    _r: ss.StrReceiveStream = receive
    _s: ss.StrSendStream = send
    _b: ss.StrStream = both
    _o: ss.ObjectStream[str] = both


def tls(stream: TLSStream, listener: TLSListener) -> None:
    _t: ss.TLSByteStream = stream
    _b: ss.ByteStream = stream
    _u: ss.SupportsUnwrap = stream
    _l: ss.Listener[TLSStream] = listener
    _lt: ss.Listener[ss.TLSByteStream] = listener
    _lb: ss.Listener[ss.ByteStream] = listener


def sockets(stream: SocketStream, listener: SocketListener) -> None:
    _s: ss.ByteStream = stream
    _l: ss.Listener[SocketStream] = listener
    _lb: ss.Listener[ss.ByteStream] = listener


def multi(listener: MultiListener[SocketStream]) -> None:
    _l: ss.Listener[SocketStream] = listener
    _lb: ss.Listener[ss.ByteStream] = listener
    _r: ss.AsyncResource = listener
