"""A TLS echo-greeting server: it answers each client's name with a greeting.

Run it next to ``cert.pem`` and ``key.pem`` (see the guide for making them), then run
``tls_client.py``. Options override the defaults: ``--port``, ``--host`` (the address to listen
on; by default every interface), ``--certfile`` and ``--keyfile``.
"""

import argparse
import logging
import ssl

import anyio

from streamspec.tls import TLSListener, TLSStream


async def handle(client: TLSStream) -> None:
    async with client:
        name = await client.receive()
        await client.send(b"Hello, %s\n" % name)


async def main(options: argparse.Namespace) -> None:
    # A context for the purpose of authenticating clients: the server's side of TLS.
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    # The server's certificate, and the private key that proves it owns it.
    context.load_cert_chain(certfile=options.certfile, keyfile=options.keyfile)

    tcp_listener = await anyio.create_tcp_listener(local_host=options.host, local_port=options.port)
    listener = TLSListener(tcp_listener, context)
    async with listener, anyio.create_task_group() as task_group:
        # Each connection gets its TLS handshake, then handle(), in a task of this group.
        await listener.serve(handle, task_group)


if __name__ == "__main__":
    # The listener logs each client that fails its handshake or drops its connection (INFO,
    # or WARNING for a handshake that was not TLS or was refused); show them.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=None)
    parser.add_argument("--port", type=int, default=1234)
    parser.add_argument("--certfile", default="cert.pem")
    parser.add_argument("--keyfile", default="key.pem")
    anyio.run(main, parser.parse_args())
