"""Static conformance: mypy and pyright must accept AnyIO 4.16's classes and ours where the
protocols are expected, and ours where AnyIO's abstract classes are expected.

This module is never run; ``make test`` type-checks it with ``mypy --strict`` and, in
tests/test_typing.py, with pyright in strict mode. Each parameter is a union of AnyIO's class
and the reference class of the same name, so every assignment is checked for both: a checker
rejects the line if either class does not fit the protocol.
"""

from __future__ import annotations

from typing import TypeAlias, TypeVar

import anyio.abc
from anyio.abc import SocketListener, SocketStream
from anyio.streams import buffered as anyio_buffered
from anyio.streams import file as anyio_file
from anyio.streams import memory as anyio_memory
from anyio.streams import stapled as anyio_stapled
from anyio.streams import text as anyio_text
from anyio.streams import tls as anyio_tls

import streamspec as ss
from streamspec import buffered as ss_buffered
from streamspec import files as ss_files
from streamspec import memory as ss_memory
from streamspec import stapled as ss_stapled
from streamspec import text as ss_text
from streamspec import tls as ss_tls

T = TypeVar("T")

MemoryObjectSendStream: TypeAlias = (
    anyio_memory.MemoryObjectSendStream[T] | ss_memory.MemoryObjectSendStream[T]
)
MemoryObjectReceiveStream: TypeAlias = (
    anyio_memory.MemoryObjectReceiveStream[T] | ss_memory.MemoryObjectReceiveStream[T]
)
StapledByteStream: TypeAlias = anyio_stapled.StapledByteStream | ss_stapled.StapledByteStream
StapledObjectStream: TypeAlias = (
    anyio_stapled.StapledObjectStream[T] | ss_stapled.StapledObjectStream[T]
)
MultiListener: TypeAlias = anyio_stapled.MultiListener[T] | ss_stapled.MultiListener[T]
BufferedByteReceiveStream: TypeAlias = (
    anyio_buffered.BufferedByteReceiveStream | ss_buffered.BufferedByteReceiveStream
)
BufferedByteStream: TypeAlias = anyio_buffered.BufferedByteStream | ss_buffered.BufferedByteStream
TextReceiveStream: TypeAlias = anyio_text.TextReceiveStream | ss_text.TextReceiveStream
TextSendStream: TypeAlias = anyio_text.TextSendStream | ss_text.TextSendStream
TextStream: TypeAlias = anyio_text.TextStream | ss_text.TextStream
TLSStream: TypeAlias = anyio_tls.TLSStream | ss_tls.TLSStream
TLSListener: TypeAlias = anyio_tls.TLSListener | ss_tls.TLSListener
BufferedConnectable: TypeAlias = (
    anyio_buffered.BufferedConnectable | ss_buffered.BufferedConnectable
)
TextConnectable: TypeAlias = anyio_text.TextConnectable | ss_text.TextConnectable
TLSConnectable: TypeAlias = anyio_tls.TLSConnectable | ss_tls.TLSConnectable
FileReadStream: TypeAlias = anyio_file.FileReadStream | ss_files.FileReadStream
FileWriteStream: TypeAlias = anyio_file.FileWriteStream | ss_files.FileWriteStream


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


def connectables(
    buffered: BufferedConnectable,
    text: TextConnectable,
    tls: TLSConnectable,
    tcp: anyio.TCPConnectable,
    unix: anyio.UNIXConnectable,
    memory: ss.ObjectStreamConnectable[bytes],
) -> None:
    _b: ss.ByteStreamConnectable = buffered
    _t: ss.ObjectStreamConnectable[str] = text
    _tls: ss.ByteStreamConnectable = tls
    _tcp: ss.ByteStreamConnectable = tcp
    _unix: ss.ByteStreamConnectable = unix
    _any: ss.AnyByteStreamConnectable = memory
    # Each wrapping connectable of ours wraps any connectable of AnyIO's, and AnyIO's ours.
    ss_buffered.BufferedConnectable(tcp)
    ss_text.TextConnectable(memory)
    ss_tls.TLSConnectable(unix, hostname="localhost")
    anyio_buffered.BufferedConnectable(ss_buffered.BufferedConnectable(tcp))


def file_streams(read: FileReadStream, write: FileWriteStream) -> None:
    _r: ss.ByteReceiveStream = read
    _w: ss.ByteSendStream = write
    _ra: anyio.abc.ByteReceiveStream = read
    _wa: anyio.abc.ByteSendStream = write


def reference_is_anyio(
    send: ss_memory.MemoryObjectSendStream[int],
    receive: ss_memory.MemoryObjectReceiveStream[int],
    stapled: ss_stapled.StapledByteStream,
    buffered: ss_buffered.BufferedByteStream,
    text: ss_text.TextStream,
    tls: ss_tls.TLSStream,
    listener: ss_tls.TLSListener,
) -> None:
    # Decision 5: the reference classes pass wherever AnyIO's abstract classes are required.
    _s: anyio.abc.ObjectSendStream[int] = send
    _r: anyio.abc.ObjectReceiveStream[int] = receive
    _sb: anyio.abc.ByteStream = stapled
    _bb: anyio.abc.ByteStream = buffered
    _t: anyio.abc.ObjectStream[str] = text
    _tls: anyio.abc.ByteStream = tls
    _l: anyio.abc.Listener[ss_tls.TLSStream] = listener
