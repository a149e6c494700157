"""asyncio's streams through a byte stream, and a byte stream through asyncio's streams."""

import asyncio

import anyio

from streamspec.adapters.asyncio import from_asyncio_streams, to_asyncio_streams


async def shout(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A server written against the byte-stream role, fed asyncio's reader and writer."""
    async with from_asyncio_streams(reader, writer) as stream:
        async for chunk in stream:
            await stream.send(chunk.upper())


async def main() -> None:
    server = await asyncio.start_server(shout, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    # A client written for asyncio's streams, running over an AnyIO TCP stream.
    reader, writer = await to_asyncio_streams(await anyio.connect_tcp("127.0.0.1", port))
    writer.write(b"hello\n")
    writer.write_eof()
    print(await reader.read())
    writer.close()
    await writer.wait_closed()
    server.close()
    await server.wait_closed()


anyio.run(main)
