"""Wrappers and transports mix freely across streamspec and AnyIO.

AnyIO's buffered and text wrappers run over streamspec's memory object streams, and
streamspec's wrappers run over AnyIO's memory object streams and over AnyIO's stapled byte
stream: each side only relies on the other's public stream interface.
"""

from __future__ import annotations

import math

import anyio
import anyio.abc
import anyio.streams.buffered
import anyio.streams.stapled
import anyio.streams.text
import pytest

from streamspec import ObjectSendStream, create_memory_object_stream
from streamspec.buffered import BufferedByteReceiveStream, BufferedByteStream
from streamspec.stapled import StapledObjectStream
from streamspec.text import TextReceiveStream, TextSendStream, TextStream

pytestmark = pytest.mark.anyio

SPLIT = ["grüß".encode()[:3], "grüß".encode()[3:] + b"\n", b"line two\nrest"]


class BytesInto(anyio.abc.ByteSendStream):
    """A byte send stream that sends each chunk as one item of an object stream."""

    def __init__(self, items: ObjectSendStream[bytes]) -> None:
        self.items = items

    async def send(self, item: bytes) -> None:
        await self.items.send(item)

    async def aclose(self) -> None:
        await self.items.aclose()


# -- AnyIO's wrappers over streamspec's memory streams ---------------------------------------


async def test_anyio_buffered_stream_over_our_memory_stream() -> None:
    send, receive = create_memory_object_stream[bytes](math.inf)
    async with send:
        for chunk in SPLIT:
            await send.send(chunk)
    async with anyio.streams.buffered.BufferedByteReceiveStream(receive) as buffered:
        assert await buffered.receive_until(b"\n", 100) == "grüß".encode()
        assert await buffered.receive_exactly(4) == b"line"
        assert await buffered.receive_until(b"\n", 100) == b" two"
        assert await buffered.receive() == b"rest"
        with pytest.raises(anyio.EndOfStream):
            await buffered.receive()


async def test_anyio_text_streams_over_our_memory_stream() -> None:
    send, receive = create_memory_object_stream[bytes](math.inf)
    async with anyio.streams.text.TextSendStream(send, "utf-16") as text_send:
        await text_send.send("grüß ")
        await text_send.send("日本")
    async with receive:
        encoded = b"".join([item async for item in receive])
    assert encoded == "grüß 日本".encode("utf-16")
    send, receive = create_memory_object_stream[bytes](math.inf)
    async with send:
        for index in range(len(encoded)):
            await send.send(encoded[index : index + 1])
    async with anyio.streams.text.TextReceiveStream(receive, "utf-16") as text_receive:
        assert "".join([piece async for piece in text_receive]) == "grüß 日本"


# -- streamspec's wrappers over AnyIO's memory streams ---------------------------------------


async def test_our_buffered_stream_over_anyio_memory_stream() -> None:
    send, receive = anyio.create_memory_object_stream[bytes](math.inf)
    async with send:
        for chunk in SPLIT:
            await send.send(chunk)
    async with BufferedByteReceiveStream(receive) as buffered:
        assert await buffered.receive_until(b"\n", 100) == "grüß".encode()
        assert await buffered.receive(3) == b"lin"
        assert await buffered.receive_exactly(6) == b"e two\n"
        with pytest.raises(anyio.IncompleteRead):
            await buffered.receive_exactly(5)
        assert buffered.buffer == b"rest"


async def test_our_text_streams_over_anyio_memory_stream() -> None:
    send, receive = anyio.create_memory_object_stream[bytes](math.inf)
    async with TextSendStream(send, "utf-8-sig") as text_send:
        await text_send.send("grüß ")
        await text_send.send("日本")
    async with receive:
        encoded = b"".join([item async for item in receive])
    assert encoded == "grüß 日本".encode("utf-8-sig")
    send, receive = anyio.create_memory_object_stream[bytes](math.inf)
    async with send:
        for index in range(len(encoded)):
            await send.send(encoded[index : index + 1])
    async with TextReceiveStream(receive, "utf-8-sig") as text_receive:
        assert "".join([piece async for piece in text_receive]) == "grüß 日本"


async def test_our_stapled_object_stream_over_anyio_memory_streams() -> None:
    send, receive = anyio.create_memory_object_stream[int](1)
    async with StapledObjectStream(send, receive) as stapled:
        stapled.send_nowait(1)
        with pytest.raises(anyio.WouldBlock):
            stapled.send_nowait(2)
        assert await stapled.receive() == 1
        await stapled.send_eof()
        with pytest.raises(anyio.EndOfStream):
            await stapled.receive()


# -- streamspec's wrappers over AnyIO's stapled byte stream ----------------------------------


def anyio_byte_duplex() -> tuple[
    anyio.streams.stapled.StapledByteStream,
    anyio.streams.stapled.StapledByteStream,
]:
    """Two AnyIO stapled byte streams joined back to back through streamspec memory streams
    (wrapped as byte streams): what one sends, the other receives."""
    a_send, b_receive = create_memory_object_stream[bytes](math.inf)
    b_send, a_receive = create_memory_object_stream[bytes](math.inf)
    return (
        anyio.streams.stapled.StapledByteStream(
            BytesInto(a_send), BufferedByteReceiveStream(a_receive)
        ),
        anyio.streams.stapled.StapledByteStream(
            BytesInto(b_send), BufferedByteReceiveStream(b_receive)
        ),
    )


async def test_our_buffered_byte_stream_over_anyio_stapled_byte_stream() -> None:
    near, far = anyio_byte_duplex()
    async with BufferedByteStream(near) as buffered, far:
        await far.send(b"PING 4\r\nda")
        await far.send(b"ta")
        assert await buffered.receive_until(b"\r\n", 64) == b"PING 4"
        assert await buffered.receive_exactly(4) == b"data"
        await buffered.send(b"PONG")
        await buffered.send_eof()
        assert await far.receive() == b"PONG"
        with pytest.raises(anyio.EndOfStream):
            await far.receive()


async def test_our_text_stream_over_anyio_stapled_byte_stream() -> None:
    near, far = anyio_byte_duplex()
    async with TextStream(near, "utf-16") as text, far:
        await far.send("héllo".encode("utf-16")[:5])
        await far.send("héllo".encode("utf-16")[5:])
        await far.send_eof()
        assert "".join([piece async for piece in text]) == "héllo"
        await text.send("grüß")
        await text.send("!")
        await text.send_eof()
        received = b"".join([chunk async for chunk in far])
        assert received == "grüß!".encode("utf-16")
