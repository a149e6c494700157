"""A complete custom target: AnyIO's UNIX socket streams over a socket pair.

``streamspec check streamspec.conformance.examples.socketpair:target`` runs every rule on it.
It keeps every byte and resource rule but one, which AnyIO breaks and the target declares: the
report shows that rule as a known divergence, and the verdict is OK.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio.abc import ByteStream, UNIXSocketStream

from streamspec.conformance import Divergence, Target

__all__ = ["socket_pair", "target"]


@asynccontextmanager
async def socket_pair() -> AsyncIterator[tuple[ByteStream, ByteStream]]:
    """Open two connected byte streams; leaving the block closes both.

    Each check opens a fresh pair, sends on one end and receives on the other, in both
    directions. Where a rule needs the end of the data it calls ``send_eof()``, which a socket
    delivers to its peer as the end of the stream.
    """
    left_socket, right_socket = socket.socketpair()
    left = await UNIXSocketStream.from_socket(left_socket)
    right = await UNIXSocketStream.from_socket(right_socket)
    async with left, right:
        yield left, right


target: Target = Target(
    name="socketpair",
    byte_stream_pair=socket_pair,
    known_divergences=(
        Divergence(
            "BYTE-CLOSED",
            "AnyIO's socket streams: send_eof() after aclose() raises a bare OSError (EBADF) "
            "instead of ClosedResourceError",
        ),
    ),
)
