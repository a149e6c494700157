"""The byte source under the buffered and text workloads, and the data it replays.

The source hands out pre-built chunks and never touches the event loop, so its cost is a
method call per chunk, the same for every variant. A variant that checkpoints pays for its
own checkpoints here, as it would on top of a real transport.
"""

from __future__ import annotations

from collections.abc import Sequence

import anyio
from anyio.abc import ByteReceiveStream

__all__ = ["CHUNK", "ChunkSource", "chunked"]

#: The chunk size of the buffered workloads' transport: what a socket read typically returns.
CHUNK = 64 * 1024


def chunked(data: bytes, size: int = CHUNK) -> list[bytes]:
    """``data`` cut into chunks of ``size`` bytes (the last one may be shorter)."""
    return [data[start : start + size] for start in range(0, len(data), size)]


class ChunkSource(ByteReceiveStream):
    """A byte stream that replays ``chunks``, then ends.

    ``receive(max_bytes)`` returns the next chunk, or its first ``max_bytes`` bytes (keeping
    the rest for the next call); it raises :exc:`anyio.EndOfStream` after the last chunk.
    """

    def __init__(self, chunks: Sequence[bytes]) -> None:
        self._chunks = iter(chunks)
        self._chunk = b""
        # Where the unread part of the current chunk begins: a short read copies only what
        # it returns, as a socket's would, never the rest of the chunk.
        self._offset = 0

    async def receive(self, max_bytes: int = CHUNK) -> bytes:
        chunk, offset = self._chunk, self._offset
        if offset >= len(chunk):
            chunk, offset = next(self._chunks, b""), 0
            if not chunk:
                self._chunk, self._offset = b"", 0
                raise anyio.EndOfStream
            if len(chunk) <= max_bytes:
                self._chunk, self._offset = b"", 0
                return chunk
        end = offset + max_bytes
        self._chunk, self._offset = chunk, end
        return chunk[offset:end]

    async def aclose(self) -> None:
        self._chunks = iter(())
        self._chunk, self._offset = b"", 0
