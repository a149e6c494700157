"""Variance negatives: mypy and pyright must reject each ``# E:`` line (see reject_shapes.py)."""

from __future__ import annotations

from anyio.abc import SocketStream
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from anyio.streams.stapled import StapledObjectStream

import streamspec as ss


def receive_is_covariant_not_contravariant(ints_out: MemoryObjectReceiveStream[int]) -> None:
    _r: ss.ObjectReceiveStream[bool] = ints_out  # E: assignment
    _m: ss.MemoryObjectReceiver[bool] = ints_out  # E: assignment


def send_is_contravariant_not_covariant(bools_in: MemoryObjectSendStream[bool]) -> None:
    _s: ss.ObjectSendStream[int] = bools_in  # E: assignment
    _m: ss.MemoryObjectSender[int] = bools_in  # E: assignment


def bidirectional_is_invariant(
    bools: StapledObjectStream[bool], ints: StapledObjectStream[int]
) -> None:
    _widen: ss.ObjectStream[int] = bools  # E: assignment
    _narrow: ss.ObjectStream[bool] = ints  # E: assignment


def listener_is_covariant(byte_listener: ss.Listener[ss.ByteStream]) -> None:
    _l: ss.Listener[SocketStream] = byte_listener  # E: assignment


def bytes_object_stream_is_not_a_byte_stream(receive: MemoryObjectReceiveStream[bytes]) -> None:
    # An object stream of bytes is an AnyByteReceiveStream, but not a ByteReceiveStream:
    # its receive() takes no max_bytes.
    _b: ss.ByteReceiveStream = receive  # E: assignment
    _s: ss.AnyByteReceiveStream = receive


def str_stream_is_not_bytes(receive: MemoryObjectReceiveStream[str]) -> None:
    _b: ss.AnyByteReceiveStream = receive  # E: assignment
