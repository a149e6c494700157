"""Trio's TLS in AnyIO's shape: an echo server and its client (Trio backend)."""

import ssl

import anyio
import trio
import trustme
from anyio.streams.tls import TLSAttribute

from streamspec.adapters.trio import (
    TrioTLSListener,
    TrioTLSStream,
    from_trio_listener,
    from_trio_stream,
)

# A throwaway certificate authority, as a test would have.
authority = trustme.CA()
server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
authority.issue_cert("localhost").configure_cert(server_context)
client_context = ssl.create_default_context()
authority.configure_trust(client_context)
for context in (server_context, client_context):
    context.set_alpn_protocols(["echo/1"])


async def echo(stream: TrioTLSStream) -> None:
    async with stream:
        await stream.send(b"echo: " + await stream.receive())


async def main() -> None:
    # The server: Trio's TCP listener, each connection's handshake done before echo() runs.
    (tcp_listener,) = await trio.open_tcp_listeners(0, host="127.0.0.1")
    port = tcp_listener.socket.getsockname()[1]
    listener = TrioTLSListener(from_trio_listener(tcp_listener), server_context)
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, echo, tg)

        # The client: Trio's TCP stream, then Trio's TLS over it.
        tcp = from_trio_stream(await trio.open_tcp_stream("127.0.0.1", port))
        async with await TrioTLSStream.wrap(
            tcp, hostname="localhost", ssl_context=client_context
        ) as client:
            print(client.extra(TLSAttribute.alpn_protocol))
            await client.send(b"hello")
            print(await client.receive())
            try:
                await client.receive()
            except anyio.EndOfStream:
                print("the server closed the session with close_notify")
        tg.cancel_scope.cancel()


anyio.run(main, backend="trio")
