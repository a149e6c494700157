"""Trio's streams and channels used through streamspec's roles (Trio backend)."""

import anyio
import trio
import trio.testing

from streamspec.adapters.trio import from_trio_channel, from_trio_stream, to_trio_stream


async def main() -> None:
    # A Trio stream pair as byte streams: b"" from Trio becomes EndOfStream.
    trio_left, trio_right = trio.testing.memory_stream_pair()
    left, right = from_trio_stream(trio_left), from_trio_stream(trio_right)
    await left.send(b"hello")
    await left.send_eof()
    print([chunk async for chunk in right])

    # A Trio memory channel as object streams: EndOfChannel becomes EndOfStream.
    trio_send, trio_receive = trio.open_memory_channel[int](3)
    send, receive = from_trio_channel(trio_send), from_trio_channel(trio_receive)
    for number in (1, 2, 3):
        await send.send(number)
    await send.aclose()
    print([item async for item in receive])

    # And back: any byte stream as a trio.abc.HalfCloseableStream.
    as_trio = to_trio_stream(right)
    await as_trio.send_all(b"reply")
    await as_trio.send_eof()
    print(await left.receive())
    print(await as_trio.receive_some())  # the end, Trio-style


anyio.run(main, backend="trio")
