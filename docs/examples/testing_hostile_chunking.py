"""A frame parser tested against a peer that sends one byte at a time."""

import struct

import anyio

from streamspec.buffered import BufferedByteReceiveStream
from streamspec.testing import byte_stream_pair


async def naive_read_frame(stream: BufferedByteReceiveStream) -> bytes:
    data = await stream.receive()  # wrong: one receive() is not one frame
    (length,) = struct.unpack(">H", data[:2])
    return data[2 : 2 + length]


async def read_frame(stream: BufferedByteReceiveStream) -> bytes:
    (length,) = struct.unpack(">H", await stream.receive_exactly(2))
    return await stream.receive_exactly(length)


async def main() -> None:
    for parser in (naive_read_frame, read_frame):
        client, server = byte_stream_pair(split=1)  # every send arrives byte by byte
        await client.send(struct.pack(">H", 5) + b"hello")
        try:
            print(parser.__name__, "->", await parser(BufferedByteReceiveStream(server)))
        except struct.error as exc:
            print(parser.__name__, "-> struct.error:", exc)


anyio.run(main)
