"""The seed's buffered byte stream example, on streamspec's reference classes."""

from anyio import run

from streamspec import create_memory_object_stream
from streamspec.buffered import BufferedByteReceiveStream


async def main() -> None:
    send, receive = create_memory_object_stream[bytes](4)
    async with send, BufferedByteReceiveStream(receive) as buffered:
        for part in b"hel", b"lo, ", b"wo", b"rld!":
            await send.send(part)

        result = await buffered.receive_exactly(8)
        print(repr(result))

        result = await buffered.receive_until(b"!", 10)
        print(repr(result))


run(main)
