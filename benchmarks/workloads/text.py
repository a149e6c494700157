"""Text streams: decoding UTF-8 with multibyte characters, in 512-byte and 64 KiB chunks."""

from __future__ import annotations

import codecs
import functools
import random
from collections.abc import AsyncIterator, Callable, Sequence
from functools import partial
from typing import Protocol

from ..clock import now
from ..harness import Role, Unit, Workload
from ..profiles import KiB
from .common import Context, expect, implementation_variants, plain_variant
from .source import ChunkSource, chunked

__all__ = ["TextReceiver", "decode_512", "decode_64k"]

SEED = 6
#: Characters drawn for the text, by UTF-8 length: mostly ASCII, as real text is, with
#: enough 2-, 3- and 4-byte characters that most chunk boundaries cut through one.
ALPHABET = (
    ("abcdefghijklmnopqrstuvwxyz ,.", 70),
    ("éèàüößñçøå", 15),
    ("日本語中文字符한국어", 10),
    ("🙂🚀🎉🐍", 5),
)


class TextReceiver(Protocol):
    """The part of a text receive stream the job uses."""

    def __aiter__(self) -> AsyncIterator[str]: ...

    async def aclose(self) -> None: ...


#: ``TextReceiveStream``: wraps a byte receive stream, decoding with ``encoding``.
TextClass = Callable[..., TextReceiver]


#: Text is drawn in blocks of at most this many bytes, repeated to the size asked for:
#: drawing costs a second per MiB, and decoding costs the same whatever the repetition.
BLOCK = 1024 * KiB


def text_data(total: int, chunk: int) -> tuple[list[bytes], int]:
    """About ``total`` bytes of UTF-8 text cut into ``chunk``-byte pieces, and how many
    characters it holds."""
    block, characters = _text_block(min(total, BLOCK))
    repeats = -(-total // len(block))
    return chunked(block * repeats, chunk), characters * repeats


@functools.cache
def _text_block(total: int) -> tuple[bytes, int]:
    """About ``total`` bytes of UTF-8 text (whole characters), and its character count."""
    rng = random.Random(SEED)
    pools = [pool for pool, _ in ALPHABET]
    weights = [weight for _, weight in ALPHABET]
    characters = []
    size = 0
    while size < total:
        character = rng.choice(rng.choices(pools, weights)[0])
        characters.append(character)
        size += len(character.encode())
    return "".join(characters).encode(), len(characters)


async def decode(text_class: TextClass, chunks: Sequence[bytes], characters: int) -> float:
    """Iterate a text stream over the chunks to its end; returns the seconds taken."""
    stream = text_class(ChunkSource(chunks), encoding="utf-8")
    received = 0
    start = now()
    async for text in stream:
        received += len(text)
    elapsed = now() - start
    await stream.aclose()
    expect(received == characters, f"{characters} characters, got {received}")
    return elapsed


def incremental_decoder(chunks: Sequence[bytes], characters: int) -> float:
    """The floor: one codecs incremental decoder fed every chunk, then told it is final."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    received = 0
    start = now()
    for chunk in chunks:
        received += len(decoder.decode(chunk))
    received += len(decoder.decode(b"", final=True))
    elapsed = now() - start
    expect(received == characters, f"{characters} characters, got {received}")
    return elapsed


def _decoding(ctx: Context, chunk: int, label: str, total: int) -> Workload:
    chunks, characters = text_data(total, chunk)
    count = len(chunks)
    job = partial(decode, chunks=chunks, characters=characters)
    return Workload(
        title=f"TextReceiveStream decoding UTF-8 in {label} chunks",
        unit=Unit("µs/chunk", 1e6),
        size=f"{count:,} chunks, {total // KiB:,} KiB, {characters:,} characters",
        rounds=ctx.profile.rounds,
        variants=(
            *implementation_variants(ctx, lambda i: i.text, count, job),
            plain_variant(
                "floor: codecs incremental decoder",
                Role.FLOOR,
                count,
                partial(incremental_decoder, chunks, characters),
            ),
        ),
    )


def decode_512(ctx: Context) -> Workload:
    return _decoding(ctx, 512, "512-byte", ctx.profile.text_bytes)


def decode_64k(ctx: Context) -> Workload:
    return _decoding(ctx, 64 * KiB, "64 KiB", ctx.profile.text_64k_bytes)
