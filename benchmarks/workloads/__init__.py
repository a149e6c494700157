"""Every workload, by id, in the order a full run measures them.

A builder makes its workload (data, variants) only when the run reaches it, so ``--only``
pays for nothing else.
"""

from __future__ import annotations

from collections.abc import Callable

from ..harness import Workload
from . import buffered, memory, text, tls
from .common import Context

__all__ = ["WORKLOADS", "Builder", "Context"]

Builder = Callable[[Context], Workload]

WORKLOADS: dict[str, Builder] = {
    "mem-buffer-100": memory.buffered_pipe,
    "mem-rendezvous": memory.rendezvous,
    "mem-rendezvous-10x10": memory.rendezvous_fan,
    "mem-waiters": memory.waiters_series,
    "mem-bytes-per-item": memory.buffered_item_cost,
    "buf-lines": buffered.lines,
    "buf-frames": buffered.frames,
    "buf-line-length": buffered.line_length_series,
    "text-512": text.decode_512,
    "text-64k": text.decode_64k,
    "tls-bulk": tls.bulk_transfer,
    "tls-handshakes": tls.full_handshakes,
    "tls-send-peak": tls.send_peak,
    "tls-send-resident": tls.send_resident,
}
