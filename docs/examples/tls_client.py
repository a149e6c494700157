"""A TLS client for ``tls_server.py``: it sends its name and prints the greeting.

Options override the defaults: ``--host`` (the server's name, which its certificate must
carry), ``--port`` and ``--cafile`` (the certificate to trust).
"""

import argparse
import ssl

import anyio

from streamspec.tls import TLSStream


async def main(options: argparse.Namespace) -> None:
    # Trusting an extra certificate is only needed when the server's certificate does not come
    # from an authority the system already trusts (as with a self-signed one). For a
    # certificate from Let's Encrypt or a vendor, the default context is enough.
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.load_verify_locations(cafile=options.cafile)

    connection = await anyio.connect_tcp(options.host, options.port)
    async with await TLSStream.wrap(
        connection, hostname=options.host, ssl_context=context
    ) as client:
        await client.send(b"Client\n")
        response = await client.receive()
        print(response)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="localhost")
    parser.add_argument("--port", type=int, default=1234)
    parser.add_argument("--cafile", default="cert.pem")
    anyio.run(main, parser.parse_args())
