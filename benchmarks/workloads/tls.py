"""TLS streams over an in-memory transport: bulk transfer, full handshakes, and the peak
memory of one large ``send``.

Client and server talk through a socket-like in-memory pipe (:mod:`.pipe`) that never yields
to the event loop unless it must wait: the same transport for every variant, costing as
little as a correct one can, so what differs is the TLS layer. The floor is the ``ssl``
module's own SSLObject and MemoryBIO pair, pumped by hand in a tight loop with no event loop.
For context, the bulk and handshake tables also time both TLS streams over the transport
these workloads used before, two of AnyIO's memory object streams, stapled, whose every
operation yields. Certificates come from trustme; the server issues no session tickets and
no session is ever reused, so every handshake is a full one.
"""

from __future__ import annotations

import dataclasses
import functools
import ssl
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

import anyio
import trustme
from anyio.streams.stapled import StapledObjectStream

from ..backends import by_name
from ..clock import now
from ..harness import Measure, Role, Unit, Workload
from ..implementations import load
from ..meters import METERS
from ..probe import run_probe
from ..profiles import KiB, MiB
from .common import (
    Context,
    backend_variants,
    expect,
    implementation_variants,
    plain_variant,
    probe_variants,
    where,
)
from .pipe import PIPE_BUFFER, pipe_pair

__all__ = [
    "BareTLSStream",
    "TLSClass",
    "TLSEnd",
    "bulk_transfer",
    "full_handshakes",
    "send_peak",
    "send_peak_probe",
]

HOSTNAME = "localhost"
#: Bytes per ``send`` in the bulk transfer, and per ``receive``.
CHUNK = 64 * KiB
#: Items the context rows' memory object streams hold in each direction.
MEMORY_STREAM_BUFFER = 16
#: Seconds allowed for the closing handshake before the ends are closed by force.
CLOSE_TIMEOUT = 10.0


class TLSEnd(Protocol):
    """The part of a TLS stream the jobs use."""

    async def send(self, item: bytes, /) -> None: ...

    async def receive(self, max_bytes: int = ..., /) -> bytes: ...

    async def aclose(self) -> None: ...


class TLSClass(Protocol):
    """``TLSStream``: its ``wrap`` does the handshake over a transport stream."""

    async def wrap(
        self,
        transport_stream: Any,
        *,
        server_side: bool | None = ...,
        hostname: str | None = ...,
        ssl_context: ssl.SSLContext | None = ...,
    ) -> TLSEnd: ...


@dataclass(frozen=True)
class Contexts:
    client: ssl.SSLContext
    server: ssl.SSLContext


@functools.cache
def contexts() -> Contexts:
    """A client context trusting a fresh trustme CA, and a server context with a certificate
    for ``localhost`` from it; made once per process."""
    authority = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    # No session tickets at all (TLS 1.3 would still send stateful ones with OP_NO_TICKET):
    # nothing to resume, and no ticket messages trailing each handshake.
    server.num_tickets = 0
    authority.issue_cert(HOSTNAME).configure_cert(server)
    client = ssl.create_default_context()
    authority.configure_trust(client)
    return Contexts(client, server)


# -- the streams' side ------------------------------------------------------------------------


#: Makes two connected transports: (the client's end, the server's end).
Transport = Callable[[], tuple[Any, Any]]


def memory_stream_pair() -> tuple[StapledObjectStream[bytes], StapledObjectStream[bytes]]:
    """The context rows' transport: two of AnyIO's memory object streams each way, stapled
    (every ``send`` and ``receive`` yields to the event loop)."""
    to_server, from_client = anyio.create_memory_object_stream[bytes](MEMORY_STREAM_BUFFER)
    to_client, from_server = anyio.create_memory_object_stream[bytes](MEMORY_STREAM_BUFFER)
    return StapledObjectStream(to_server, from_server), StapledObjectStream(to_client, from_client)


async def handshake(
    tls: TLSClass, client_transport: object, server_transport: object
) -> tuple[TLSEnd, TLSEnd]:
    """Wrap both transports at once (each side's handshake needs the other's)."""
    servers: list[TLSEnd] = []

    async def accept() -> None:
        servers.append(
            await tls.wrap(server_transport, server_side=True, ssl_context=contexts().server)
        )

    async with anyio.create_task_group() as tg:
        tg.start_soon(accept)
        client = await tls.wrap(
            client_transport, server_side=False, hostname=HOSTNAME, ssl_context=contexts().client
        )
    return client, servers[0]


async def close_both(client: TLSEnd, server: TLSEnd) -> None:
    """Close both ends at once, so each one's ``close_notify`` meets the other's."""
    with anyio.move_on_after(CLOSE_TIMEOUT):
        async with anyio.create_task_group() as tg:
            tg.start_soon(client.aclose)
            tg.start_soon(server.aclose)


@asynccontextmanager
async def connected(
    tls: TLSClass, transport: Transport = pipe_pair
) -> AsyncIterator[tuple[TLSEnd, TLSEnd]]:
    """A client and a server TLS stream, handshake done; both closed on exit."""
    client_transport, server_transport = transport()
    try:
        client, server = await handshake(tls, client_transport, server_transport)
        try:
            yield client, server
        finally:
            await close_both(client, server)
    finally:
        await client_transport.aclose()
        await server_transport.aclose()


async def receive_all(server: TLSEnd, total: int) -> int:
    received = 0
    while received < total:
        received += len(await server.receive(CHUNK))
    return received


async def bulk(tls: TLSClass, chunk: bytes, sends: int, transport: Transport = pipe_pair) -> float:
    """The client sends ``chunk`` ``sends`` times while the server receives it all; returns
    the seconds from the first send to the last byte received."""
    total = len(chunk) * sends

    async with connected(tls, transport) as (client, server):

        async def send_all() -> None:
            for _ in range(sends):
                await client.send(chunk)

        start = now()
        async with anyio.create_task_group() as tg:
            tg.start_soon(send_all)
            received = await receive_all(server, total)
        elapsed = now() - start
    expect(received == total, f"{total} bytes, got {received}")
    return elapsed


async def handshakes(tls: TLSClass, count: int, transport: Transport = pipe_pair) -> float:
    """``count`` full handshakes, each over fresh transports; returns the seconds they took.

    A client task and a server task each wrap their ends of the transports one after the
    other, as a client making connections in turn and a server accepting them would: no task
    is started per handshake, a cost that belongs to no TLS stream and that the floor does
    not pay. The connections are closed after the clock stops.
    """
    pairs = [transport() for _ in range(count)]
    clients: list[TLSEnd] = []
    servers: list[TLSEnd] = []

    async def accept_all() -> None:
        for _, server_transport in pairs:
            servers.append(
                await tls.wrap(server_transport, server_side=True, ssl_context=contexts().server)
            )

    try:
        start = now()
        async with anyio.create_task_group() as tg:
            tg.start_soon(accept_all)
            for client_transport, _ in pairs:
                clients.append(
                    await tls.wrap(
                        client_transport,
                        server_side=False,
                        hostname=HOSTNAME,
                        ssl_context=contexts().client,
                    )
                )
        elapsed = now() - start
    finally:
        for client, server in zip(clients, servers, strict=False):
            await close_both(client, server)
        for client_transport, server_transport in pairs:
            await client_transport.aclose()
            await server_transport.aclose()
    expect(len(clients) == len(servers) == count, f"{count} handshakes, got {len(servers)}")
    return elapsed


async def one_send_peak(tls: TLSClass, payload: bytes, meter: str) -> float:
    """The peak memory growth, on ``meter`` (see :mod:`benchmarks.meters`), while one
    ``send(payload)`` crosses to the server."""
    async with connected(tls) as (client, server):
        with METERS[meter]() as peak:
            async with anyio.create_task_group() as tg:
                tg.start_soon(client.send, payload)
                received = await receive_all(server, len(payload))
            growth = peak()
    expect(received == len(payload), f"{len(payload)} bytes, got {received}")
    return growth


class BareTLSStream:
    """A TLS stream with nothing but the work, over a transport whose every ``send()`` arrives
    as one ``receive()`` (the pipe of these workloads): no argument checks, no cancellation
    check, no busy guard, no state, no locks, no error handling.

    It answers one question for context: how far above the floor does any TLS stream land
    once its work sits behind ``async`` methods and awaits a transport? Not a usable stream: a
    record split across two transport reads, an error or the end of the data breaks it.
    """

    def __init__(
        self,
        transport: Any,
        ssl_object: ssl.SSLObject,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
    ) -> None:
        self._transport = transport
        self._ssl_object = ssl_object
        self._incoming, self._outgoing = incoming, outgoing

    @classmethod
    async def wrap(
        cls,
        transport_stream: Any,
        *,
        server_side: bool | None = None,
        hostname: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> BareTLSStream:
        assert ssl_context is not None
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        ssl_object = ssl_context.wrap_bio(
            incoming, outgoing, server_side=bool(server_side), server_hostname=hostname
        )
        stream = cls(transport_stream, ssl_object, incoming, outgoing)
        while True:
            try:
                ssl_object.do_handshake()
                break
            except ssl.SSLWantReadError:
                await stream._send_pending()
                incoming.write(await transport_stream.receive(PIPE_BUFFER))
        await stream._send_pending()
        return stream

    async def _send_pending(self) -> None:
        if self._outgoing.pending:
            await self._transport.send(self._outgoing.read())

    async def send(self, item: bytes, /) -> None:
        self._ssl_object.write(item)
        await self._transport.send(self._outgoing.read())

    async def receive(self, max_bytes: int = 65536, /) -> bytes:
        incoming, ssl_object = self._incoming, self._ssl_object
        if not incoming.pending:
            incoming.write(await self._transport.receive(PIPE_BUFFER))
        pieces: list[bytes] = []
        size = 0
        while size < max_bytes and incoming.pending:
            piece = ssl_object.read(min(max_bytes - size, 16 * KiB))
            pieces.append(piece)
            size += len(piece)
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    async def aclose(self) -> None:
        await self._transport.aclose()


# -- the floor: ssl's own objects, pumped by hand ---------------------------------------------


@dataclass
class BioPair:
    """A client and a server SSLObject joined by MemoryBIOs that the caller pumps."""

    client: ssl.SSLObject
    server: ssl.SSLObject
    client_in: ssl.MemoryBIO
    client_out: ssl.MemoryBIO
    server_in: ssl.MemoryBIO
    server_out: ssl.MemoryBIO

    @classmethod
    def handshaken(cls) -> BioPair:
        """A new pair, with the full handshake done."""
        client_in, client_out, server_in, server_out = (ssl.MemoryBIO() for _ in range(4))
        pair = cls(
            client=contexts().client.wrap_bio(client_in, client_out, server_hostname=HOSTNAME),
            server=contexts().server.wrap_bio(server_in, server_out, server_side=True),
            client_in=client_in,
            client_out=client_out,
            server_in=server_in,
            server_out=server_out,
        )
        done = {pair.client: False, pair.server: False}
        while not all(done.values()):
            for end in done:
                if not done[end]:
                    try:
                        end.do_handshake()
                        done[end] = True
                    except ssl.SSLWantReadError:
                        pass
                pair.server_in.write(pair.client_out.read())
                pair.client_in.write(pair.server_out.read())
        return pair

    def deliver(self, data: bytes | memoryview) -> int:
        """Encrypt ``data`` on the client, move it across, decrypt it on the server; returns
        the plaintext bytes the server read."""
        self.client.write(data)
        self.server_in.write(self.client_out.read())
        received = 0
        try:
            while True:
                received += len(self.server.read(CHUNK))
        except ssl.SSLWantReadError:
            return received

    def deliver_whole(self, data: bytes | memoryview) -> int:
        """:meth:`deliver`, with the server's plaintext gathered into one ``bytes``, as a
        stream's ``receive(max_bytes)`` must return it: ``SSLObject.read()`` returns one TLS
        record (at most 16 KiB) per call."""
        self.client.write(data)
        self.server_in.write(self.client_out.read())
        pieces = []
        try:
            while True:
                pieces.append(self.server.read(CHUNK))
        except ssl.SSLWantReadError:
            return len(b"".join(pieces))


def pump_bulk(chunk: bytes, sends: int, whole: bool = False) -> float:
    """The floor of the bulk transfer (with ``whole``, its context row)."""
    pair = BioPair.handshaken()
    deliver = pair.deliver_whole if whole else pair.deliver
    received = 0
    start = now()
    for _ in range(sends):
        received += deliver(chunk)
    elapsed = now() - start
    expect(received == len(chunk) * sends, f"{len(chunk) * sends} bytes, got {received}")
    return elapsed


def pump_handshakes(count: int) -> float:
    start = now()
    for _ in range(count):
        BioPair.handshaken()
    return now() - start


def pump_send_peak(payload: bytes, meter: str) -> float:
    """The peak memory growth, on ``meter``, while the payload crosses a BioPair in 64 KiB
    slices."""
    pair = BioPair.handshaken()
    with METERS[meter]() as peak:
        view = memoryview(payload)
        received = sum(pair.deliver(view[at : at + CHUNK]) for at in range(0, len(payload), CHUNK))
        growth = peak()
    expect(received == len(payload), f"{len(payload)} bytes, got {received}")
    return growth


# -- the workloads ----------------------------------------------------------------------------

#: The label suffix of the context rows.
OVER_MEMORY_STREAMS = "over memory object streams"
CONTEXT_NOTE = (
    "Every variant runs over the same socket-like in-memory pipe, which yields only when it "
    f"must wait. The rows '... {OVER_MEMORY_STREAMS}' run over two of AnyIO's memory object "
    "streams instead (stapled, yielding on every send and receive): context only, not judged."
)


def over_memory_streams(ctx: Context) -> Context:
    """``ctx`` with its implementations relabelled as context rows over memory object
    streams."""
    return dataclasses.replace(
        ctx,
        implementations=tuple(
            dataclasses.replace(
                implementation,
                label=f"{implementation.label} {OVER_MEMORY_STREAMS}",
                role=Role.CONTEXT,
            )
            for implementation in ctx.implementations
        ),
    )


def bulk_transfer(ctx: Context) -> Workload:
    contexts()  # the certificates are made now, not in some variant's first measurement
    total = ctx.profile.tls_bytes
    chunk = bytes(range(256)) * (CHUNK // 256)
    sends = total // CHUNK

    return Workload(
        title="TLS bulk transfer, client to server, 64 KiB sends",
        unit=Unit("MiB/s", 1 / MiB, rate=True),
        size=f"{total // MiB} MiB",
        rounds=ctx.profile.rounds,
        variants=(
            *implementation_variants(
                ctx, lambda i: i.tls, total, partial(bulk, chunk=chunk, sends=sends)
            ),
            *implementation_variants(
                over_memory_streams(ctx),
                lambda i: i.tls,
                total,
                partial(bulk, chunk=chunk, sends=sends, transport=memory_stream_pair),
            ),
            plain_variant(
                "floor: SSLObject + MemoryBIO pump",
                Role.FLOOR,
                total,
                partial(pump_bulk, chunk, sends),
            ),
            plain_variant(
                "floor, each 64 KiB as one bytes",
                Role.CONTEXT,
                total,
                partial(pump_bulk, chunk, sends, whole=True),
            ),
            *backend_variants(
                ctx,
                _BARE_LABEL,
                Role.CONTEXT,
                total,
                lambda backend: partial(
                    backend.run, partial(bulk, BareTLSStream, chunk=chunk, sends=sends)
                ),
            ),
        ),
        notes=(
            CONTEXT_NOTE,
            "floor, each 64 KiB as one bytes: the floor joining the four records of each send "
            "into one bytes, as a stream's receive(65536) must return them (context only).",
            f"{_BARE_LABEL}: the same job through BareTLSStream, the work behind async methods "
            "over the same pipe with nothing else: what any TLS stream costs here at the least "
            "(context only).",
        ),
    )


_BARE_LABEL = "bare TLS stream: no checks, no locks, no cancellation check"


def full_handshakes(ctx: Context) -> Workload:
    contexts()
    count = ctx.profile.handshakes

    return Workload(
        title="TLS full handshakes (no session resumption), in sequence",
        unit=Unit("handshakes/s", 1, rate=True),
        size=f"{count:,} handshakes",
        rounds=ctx.profile.rounds,
        variants=(
            *implementation_variants(ctx, lambda i: i.tls, count, partial(handshakes, count=count)),
            *implementation_variants(
                over_memory_streams(ctx),
                lambda i: i.tls,
                count,
                partial(handshakes, count=count, transport=memory_stream_pair),
            ),
            plain_variant(
                "floor: SSLObject + MemoryBIO pump",
                Role.FLOOR,
                count,
                partial(pump_handshakes, count),
            ),
        ),
        notes=(
            "One client task and one server task do their handshakes in turn, over fresh "
            "transports; no task is started per handshake, and closing is not timed.",
            CONTEXT_NOTE,
        ),
    )


def send_peak(ctx: Context) -> Workload:
    return _send_peak(ctx, "traced")


def send_resident(ctx: Context) -> Workload:
    return _send_peak(ctx, "resident")


def _send_peak(ctx: Context, meter: str) -> Workload:
    contexts()
    ctx = ctx.for_footprint()
    # Resident memory is only sound in a fresh interpreter (see benchmarks.meters).
    fresh = (
        ctx.profile.resident_in_fresh_interpreter
        if meter == "resident"
        else ctx.profile.fresh_interpreter
    )
    size = ctx.profile.tls_send_bytes if meter == "traced" else ctx.profile.tls_resident_bytes
    target = f"{__name__}:send_peak_probe"

    def measure(kind: str, backend: str, path: str = "-") -> Measure:
        return partial(run_probe, target, kind, backend, str(size), path, meter, fresh=fresh)

    if meter == "traced":
        title = "peak Python allocations (tracemalloc) during one send() through TLS"
        how = "tracemalloc peak" + where(ctx)
        note = (
            "x payload: peak growth of Python allocations during the send / payload size; the "
            "payload is made before tracing starts. OpenSSL's own buffers (the MemoryBIOs' "
            "contents) are invisible to tracemalloc (tls-send-resident sees them), but "
            "ciphertext read out of them into bytes is counted."
        )
    else:
        title = "peak resident memory (VmHWM) during one send() through TLS"
        how = "rise of the resident high-water mark, a fresh interpreter per variant"
        note = (
            "x payload: rise of peak resident memory during the send / payload size; unlike "
            "tracemalloc it sees OpenSSL's buffers too. The payload is resident before the "
            "mark is reset."
        )
    return Workload(
        title=title,
        unit=Unit("x payload", 1),
        size=f"one {size // MiB} MiB send, both ends in one process; {how}",
        rounds=ctx.profile.footprint_rounds,
        warmup=False,
        variants=(
            *probe_variants(
                ctx, lambda i: i.tls, size, lambda path, backend: measure("tls", backend.name, path)
            ),
            plain_variant(
                "ssl.SSLObject, 64 KiB slices", Role.PEER, size, measure("sslobject", "-")
            ),
        ),
        notes=(note, "The SSLObject row shows what sending in 64 KiB slices costs."),
    )


def send_peak_probe(args: Sequence[str]) -> float:
    """Peak memory growth during one send: ``kind backend size path meter``, ``kind`` being
    "tls" (the TLSStream class at ``path``, on ``backend``) or "sslobject", ``meter`` a name
    in :data:`benchmarks.meters.METERS`."""
    kind, backend_name, size_text, path, meter = args
    # Written byte by byte, so its pages are resident and its bytes allocated before any
    # meter starts: the payload itself is never counted.
    payload = b"\xab" * int(size_text)
    if kind == "sslobject":
        return pump_send_peak(payload, meter)
    tls: TLSClass = load(path)  # type: ignore[assignment]
    return by_name(backend_name).run(partial(one_send_peak, tls, payload, meter))
