"""How much work each workload does: the full run, ``--quick``, and the smoke test's sizes.

Only sizes and round counts differ between profiles; the code measured is the same.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

__all__ = ["FULL", "QUICK", "SMOKE", "Profile"]

KiB = 1024
MiB = 1024 * KiB


@dataclass(frozen=True)
class Profile:
    name: str
    #: Interleaved rounds per timed workload (the median is taken over them).
    rounds: int
    #: Whether a thrown-away warm-up round runs first.
    warmup: bool
    #: Rounds for the series (waiters, line length), and whether they warm up first: their
    #: many points make each round long.
    series_rounds: int
    series_warmup: bool
    #: Rounds for the memory workloads, one fresh interpreter per variant per round.
    footprint_rounds: int
    #: The backends memory workloads run on (None: all of them).
    footprint_backends: tuple[str, ...] | None
    #: Whether memory workloads run each measurement in a fresh interpreter (see probe.py).
    #: tracemalloc counts only what is allocated while it traces, so in-process figures are
    #: the same; a fresh interpreter only rules out any doubt, at a second or more each.
    fresh_interpreter: bool
    #: The same for resident-memory measurements, which are unsound in-process (see
    #: benchmarks/meters.py); only the smoke test, which ignores the figures, skips it.
    resident_in_fresh_interpreter: bool
    #: Items through one stream, 1 producer and 1 consumer.
    pipe_items: int
    #: Items through one stream shared by 10 producers and 10 consumers.
    fan_items: int
    #: The series "tasks waiting on one stream", and the items sent at each point (at
    #: least twice the number of waiters, so every waiter receives).
    waiters: tuple[int, ...]
    waiter_items: int
    #: Items buffered in one memory object stream to measure bytes per item.
    buffered_items: int
    #: Bytes of lines (or frames) read through a buffered stream.
    stream_bytes: int
    #: The series "line length", and the bytes read at each point.
    line_lengths: tuple[int, ...]
    line_length_bytes: int
    #: Bytes of UTF-8 text decoded in 512-byte chunks.
    text_bytes: int
    #: The same for 64 KiB chunks: enough of them for a measurement of tens of ms.
    text_64k_bytes: int
    #: Bytes sent through a TLS stream, and full handshakes done, per measurement.
    tls_bytes: int
    handshakes: int
    #: The size of the single ``send`` whose peak memory is measured: with tracemalloc, and
    #: (in a fresh interpreter each time) by the rise of resident memory.
    tls_send_bytes: int
    tls_resident_bytes: int


FULL = Profile(
    name="full",
    rounds=7,
    warmup=True,
    series_rounds=5,
    series_warmup=True,
    footprint_rounds=1,  # tracemalloc figures do not vary from run to run
    footprint_backends=None,
    fresh_interpreter=True,
    resident_in_fresh_interpreter=True,
    pipe_items=50_000,
    fan_items=20_000,
    waiters=(1, 10, 100, 1000, 10_000),
    waiter_items=10_000,
    buffered_items=1_000_000,
    stream_bytes=16 * MiB,
    line_lengths=tuple(KiB * 4**i for i in range(8)),  # 1 KiB .. 16 MiB
    line_length_bytes=64 * MiB,
    text_bytes=16 * MiB,
    text_64k_bytes=64 * MiB,
    tls_bytes=64 * MiB,
    handshakes=300,
    tls_send_bytes=256 * MiB,
    tls_resident_bytes=256 * MiB,
)

# The quick run differs from the full one only where it saves time; the rest is shared.
QUICK = replace(
    FULL,
    name="quick",
    rounds=3,
    # The median of 3 interleaved rounds absorbs a cold first round; no warm-up saves a
    # quarter of the run.
    warmup=False,
    series_rounds=2,
    series_warmup=False,
    # uvloop cannot change what a buffer or a send holds; the full run shows it.
    footprint_backends=("asyncio", "trio"),
    fresh_interpreter=False,
    pipe_items=10_000,
    fan_items=4_000,
    waiter_items=2_000,
    stream_bytes=2 * MiB,
    text_bytes=4 * MiB,
    text_64k_bytes=16 * MiB,
    handshakes=40,
    tls_resident_bytes=64 * MiB,
)

SMOKE = Profile(
    name="smoke",
    rounds=2,
    warmup=False,
    series_rounds=1,
    series_warmup=False,
    footprint_rounds=1,
    footprint_backends=None,
    fresh_interpreter=False,
    resident_in_fresh_interpreter=False,
    pipe_items=100,
    fan_items=100,
    waiters=(1, 10),
    waiter_items=50,
    buffered_items=2_000,
    stream_bytes=64 * KiB,
    line_lengths=(KiB, 128 * KiB),
    line_length_bytes=256 * KiB,
    text_bytes=16 * KiB,
    text_64k_bytes=128 * KiB,
    tls_bytes=64 * KiB,
    handshakes=2,
    tls_send_bytes=1 * MiB,
    tls_resident_bytes=1 * MiB,
)
