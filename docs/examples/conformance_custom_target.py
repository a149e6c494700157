"""A custom target: AnyIO's UNIX socket streams over a socket pair, checked on three byte rules."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from anyio.abc import ByteStream, UNIXSocketStream

from streamspec.conformance import Target, run_suite


@asynccontextmanager
async def socket_pair() -> AsyncIterator[tuple[ByteStream, ByteStream]]:
    """Open two connected byte streams; leaving the block closes both."""
    left_socket, right_socket = socket.socketpair()
    left = await UNIXSocketStream.from_socket(left_socket)
    right = await UNIXSocketStream.from_socket(right_socket)
    async with left, right:
        yield left, right


target = Target(name="socketpair", byte_stream_pair=socket_pair)


async def main() -> None:
    results = await run_suite(target, rules=["BYTE-INTACT", "BYTE-EOF", "BYTE-SEND-EOF"])
    for result in results:
        print(f"{result.rule.id:24} {result.backend:8} {result.outcome.value}")


if __name__ == "__main__":
    anyio.run(main)
