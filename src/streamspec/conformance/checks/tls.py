"""Checks of the ``tls`` role: the target's TLS stream over a transport the checks control.

Every TLS stream under test runs over the suite's in-memory transport, which can chunk what it
delivers, end without ``close_notify`` and hold delivery back (see
:mod:`streamspec.conformance._tls_pair`, shared with the TLS byte subject). Both ends of a
connection are the target's: its ``tls_stream.wrap`` makes the client and the server.
Certificates come from :mod:`streamspec.conformance._certs`. The listener check runs
the target's ``tls_listener`` over the target's ``listener`` when it has one, otherwise over a
TCP listener on 127.0.0.1.

This module keeps its own Hypothesis strategy for TLS traffic (:func:`_flows`): a payload and
three chunkings (sender, receiver, transport).

Check failures carry their own messages, so pytest must not rewrite this module's asserts
(PYTEST_DONT_REWRITE): the pytest plugin's report then reads like the CLI's.
"""

from __future__ import annotations

import itertools
import logging
import random
import re
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.lowlevel
from anyio.abc import SocketAttribute
from anyio.streams.tls import TLSAttribute
from hypothesis import given
from hypothesis import strategies as st

from .._certs import SERVER_HOSTNAME, client_context, server_certificate_der, server_context
from .._hang import CleanUp
from .._tls_pair import (
    ProbeAttribute,
    close_forcefully,
    connection,
    handshake,
    transport_pair,
)
from ..observe import PATIENCE, chain, describe, expect_raises
from ..registry import Context, check
from ..target import Target

__all__: list[str] = []

#: The listener check's handshake timeout: a stalled client costs this long.
_HANDSHAKE_TIMEOUT = 0.5


# -- helpers ------------------------------------------------------------------------------------


async def _receive_exactly(stream: Any, expected: bytes, *, what: str) -> None:
    """Receive until ``expected`` has arrived, failing on anything else or a stall."""
    received = 0
    with anyio.move_on_after(PATIENCE) as scope:
        while received < len(expected):
            try:
                chunk = await stream.receive()
            except Exception as exc:
                raise AssertionError(
                    f"{what}: receive() raised {describe(exc, causes=True)} after {received} of "
                    f"{len(expected)} bytes"
                ) from exc
            if chunk != expected[received : received + len(chunk)]:
                raise AssertionError(
                    f"{what}: expected {expected[received : received + len(chunk)]!r} at "
                    f"byte {received}, received {chunk!r}"
                )
            received += len(chunk)
    if scope.cancelled_caught:
        raise AssertionError(
            f"{what}: only {received} of {len(expected)} bytes arrived within {PATIENCE:g} s"
        )


async def _gather(*calls: Callable[[], Awaitable[None]]) -> None:
    """Run ``calls`` concurrently; the first to fail cancels the rest and its error is raised
    as itself (not inside an exception group), so the report shows what was observed."""
    failures: list[Exception] = []

    async def guarded(call: Callable[[], Awaitable[None]]) -> None:
        try:
            await call()
        except Exception as exc:
            failures.append(exc)
            tg.cancel_scope.cancel()

    async with anyio.create_task_group() as tg:
        for call in calls:
            tg.start_soon(guarded, call)
    if failures:
        raise failures[0]


# -- TLS-INTACT ---------------------------------------------------------------------------------

#: Larger than one TLS record (16 KiB), so records are split and joined.
_MAX_PAYLOAD = 40_000
#: Roughly how many send, receive and transport-delivery calls one flow may take: tiny chunks
#: come with short payloads, long payloads with larger chunks, so every example stays cheap.
_CALL_BUDGET = 5_000
#: Bytes a TLS 1.3 record adds to its payload (header, tag, content type), roughly.
_RECORD_OVERHEAD = 22
#: Chunk sizes, often tiny (a byte at a time through a record header), sometimes record-sized.
_chunkings = st.lists(
    st.one_of(st.integers(1, 16), st.integers(1, 20_000)), min_size=1, max_size=6
).map(tuple)


@dataclass(frozen=True)
class _Flow:
    """One direction of TLS traffic: what is sent, and how each layer chunks it."""

    #: How the sender splits the payload into ``send()`` calls (cycled).
    send_sizes: tuple[int, ...]
    #: The ``max_bytes`` the receiver passes to ``receive()`` (cycled).
    receive_sizes: tuple[int, ...]
    #: The largest chunk the transport delivers to the receiving TLS stream at a time (cycled).
    transport_sizes: tuple[int, ...]
    #: Length of the payload, which is ``seed``'s pseudo-random bytes (so the repr stays short).
    length: int
    seed: int

    @property
    def payload(self) -> bytes:
        return random.Random(self.seed).randbytes(self.length)


def _mean(sizes: Sequence[int]) -> float:
    return sum(sizes) / len(sizes)


@st.composite
def _flows(draw: st.DrawFn) -> _Flow:
    """One direction of TLS traffic: the chunkings, then a payload they can carry cheaply."""
    send_sizes, receive_sizes, transport_sizes = (
        draw(_chunkings),
        draw(_chunkings),
        draw(_chunkings),
    )
    # Calls per payload byte: sends, receives, and transport deliveries of the ciphertext.
    sent, received, delivered = map(_mean, (send_sizes, receive_sizes, transport_sizes))
    calls_per_byte = 1 / sent + 1 / received + (1 + _RECORD_OVERHEAD / sent) / delivered
    length = draw(st.integers(0, min(_MAX_PAYLOAD, int(_CALL_BUDGET / calls_per_byte))))
    return _Flow(
        send_sizes, receive_sizes, transport_sizes, length, draw(st.integers(0, 2**32 - 1))
    )


async def _send_flow(stream: Any, flow: _Flow, *, what: str) -> None:
    payload = flow.payload
    sizes = itertools.cycle(flow.send_sizes)
    offset = 0
    while offset < len(payload):
        chunk = payload[offset : offset + next(sizes)]
        try:
            await stream.send(chunk)
        except Exception as exc:
            raise AssertionError(
                f"{what}: send() raised {describe(exc, causes=True)} at byte {offset}"
            ) from exc
        offset += len(chunk)


async def _receive_flow(stream: Any, flow: _Flow, *, what: str) -> None:
    payload = flow.payload
    sizes = itertools.cycle(flow.receive_sizes)
    received = 0
    while received < len(payload):
        max_bytes = next(sizes)
        try:
            chunk = await stream.receive(max_bytes)
        except Exception as exc:
            raise AssertionError(
                f"{what}: receive({max_bytes}) raised {describe(exc, causes=True)} after "
                f"{received} of {len(payload)} bytes"
            ) from exc
        if not 0 < len(chunk) <= max_bytes:
            raise AssertionError(
                f"{what}: receive({max_bytes}) returned {len(chunk)} bytes at byte {received}"
            )
        if chunk != payload[received : received + len(chunk)]:
            raise AssertionError(
                f"{what}: the {len(chunk)} bytes received at byte {received} differ from those sent"
            )
        received += len(chunk)


async def _exchange(target: Target, upstream: _Flow, downstream: _Flow) -> None:
    async with connection(
        target,
        client_chunks=downstream.transport_sizes,
        server_chunks=upstream.transport_sizes,
    ) as conn:
        # Both directions at once: TLS is full duplex.
        await _gather(
            lambda: _send_flow(conn.client, upstream, what="client to server"),
            lambda: _send_flow(conn.server, downstream, what="server to client"),
            lambda: _receive_flow(conn.server, upstream, what="client to server"),
            lambda: _receive_flow(conn.client, downstream, what="server to client"),
        )


@check("TLS-INTACT", needs=("tls_stream",))
def tls_intact(ctx: Context) -> None:
    @given(upstream=_flows(), downstream=_flows())
    def both_directions_intact(upstream: _Flow, downstream: _Flow) -> None:
        ctx.run(_exchange, ctx.target, upstream, downstream)

    both_directions_intact()


# -- TLS-HOSTNAME, TLS-UNTRUSTED ----------------------------------------------------------------


async def _expect_refusal(target: Target, *, hostname: str, trusted: bool, why: str) -> None:
    """A control handshake must succeed; then one with the bad certificate must be refused."""
    async with connection(target):
        pass
    async with transport_pair() as transports:
        client, server = await handshake(
            target,
            *transports,
            client_tls=client_context(),
            server_tls=server_context(trusted=trusted),
            hostname=hostname,
        )
        for stream in (client, server):
            if not isinstance(stream, BaseException):
                await close_forcefully(stream)
    if not isinstance(client, BaseException):
        raise AssertionError(f"the client completed the handshake although {why}")
    if not isinstance(client, (ssl.SSLError, anyio.BrokenResourceError)):
        raise AssertionError(
            f"the client's wrap() raised {describe(client, causes=True)}, expected an "
            "ssl.SSLError or BrokenResourceError"
        )
    ssl_errors = [exc for exc in chain(client) if isinstance(exc, ssl.SSLError)]
    if ssl_errors and not any(isinstance(e, ssl.SSLCertVerificationError) for e in ssl_errors):
        raise AssertionError(
            f"the client's handshake failed, but not on certificate verification: "
            f"{describe(client, causes=True)}"
        )
    if not isinstance(server, BaseException):
        raise AssertionError(
            f"the server completed the handshake although the client refused it ({why})"
        )


@check("TLS-HOSTNAME", needs=("tls_stream",))
async def tls_hostname(ctx: Context) -> None:
    await _expect_refusal(
        ctx.target,
        hostname="wrong-host.test",
        trusted=True,
        why=f"the certificate is for {SERVER_HOSTNAME!r}, not 'wrong-host.test'",
    )


@check("TLS-UNTRUSTED", needs=("tls_stream",))
async def tls_untrusted(ctx: Context) -> None:
    await _expect_refusal(
        ctx.target,
        hostname=SERVER_HOSTNAME,
        trusted=False,
        why="the certificate's issuer is not trusted by the client's context",
    )


# -- TLS-RAGGED-EOF-STRICT, TLS-RAGGED-EOF-LENIENT, TLS-CLOSE-NOTIFY ----------------------------


async def _ragged_eof(
    target: Target, *, standard_compatible: bool, expected: type[Exception]
) -> None:
    """Each side sends, then each transport ends without close_notify; after the data, each
    receiver must see ``expected``."""
    async with connection(
        target, client_compatible=standard_compatible, server_compatible=standard_compatible
    ) as conn:
        sides = (
            ("client", conn.client, conn.client_transport, "server", conn.server),
            ("server", conn.server, conn.server_transport, "client", conn.client),
        )
        for sender_name, sender, _, _, _ in sides:
            await sender.send(f"last words of the {sender_name}".encode())
        for _, _, sender_transport, _, _ in sides:
            await sender_transport.send_eof()
        for sender_name, _, _, receiver_name, receiver in sides:
            what = f"{sender_name} to {receiver_name}"
            await _receive_exactly(receiver, f"last words of the {sender_name}".encode(), what=what)
            try:
                with anyio.fail_after(PATIENCE):
                    chunk = await receiver.receive()
            except expected:
                continue
            except Exception as exc:
                observed = f"raised {describe(exc, causes=True)}"
            else:
                observed = f"returned {chunk!r}"
            raise AssertionError(
                f"with standard_compatible={standard_compatible}, after the {sender_name}'s "
                f"transport ended without close_notify, the {receiver_name}'s receive() "
                f"{observed}, expected {expected.__name__}"
            )


@check("TLS-RAGGED-EOF-STRICT", needs=("tls_stream",))
async def tls_ragged_eof_strict(ctx: Context) -> None:
    await _ragged_eof(ctx.target, standard_compatible=True, expected=anyio.BrokenResourceError)


@check("TLS-RAGGED-EOF-LENIENT", needs=("tls_stream",))
async def tls_ragged_eof_lenient(ctx: Context) -> None:
    await _ragged_eof(ctx.target, standard_compatible=False, expected=anyio.EndOfStream)


async def _close_and_observe(target: Target, *, closer_name: str) -> None:
    """The closer sends a farewell and closes; the peer must get it, then EndOfStream."""
    async with connection(target) as conn:
        if closer_name == "client":
            closer, peer, peer_name = conn.client, conn.server, "server"
        else:
            closer, peer, peer_name = conn.server, conn.client, "client"
        farewell = f"the {closer_name} says goodbye".encode()
        await closer.send(farewell)

        async def close() -> None:
            try:
                await closer.aclose()
            except Exception as exc:
                raise AssertionError(
                    f"the {closer_name}'s aclose() raised {describe(exc, causes=True)} while the "
                    f"{peer_name} was receiving"
                ) from exc

        async def observe() -> None:
            await _receive_exactly(peer, farewell, what=f"{closer_name} to {peer_name}")
            try:
                chunk = await peer.receive()
            except anyio.EndOfStream:
                # Answer with our own close_notify, which a standard closer waits for.
                await peer.aclose()
                return
            except Exception as exc:
                observed = f"raised {describe(exc, causes=True)}"
            else:
                observed = f"returned {chunk!r}"
            raise AssertionError(
                f"after the {closer_name} called aclose(), the {peer_name}'s receive() "
                f"{observed}, expected EndOfStream"
            )

        await _gather(close, observe)


@check("TLS-CLOSE-NOTIFY", needs=("tls_stream",))
async def tls_close_notify(ctx: Context) -> None:
    for closer_name in ("client", "server"):
        await _close_and_observe(ctx.target, closer_name=closer_name)


# -- TLS-ACLOSE-QUIET ---------------------------------------------------------------------------


async def _close_quietly(closer: Any, *, closer_name: str, situation: str) -> None:
    """``closer.aclose()`` must return (within PATIENCE) without raising."""
    try:
        with anyio.fail_after(PATIENCE):
            await closer.aclose()
    except TimeoutError:
        raise AssertionError(
            f"{situation}, the {closer_name}'s aclose() did not return within {PATIENCE:g} s"
        ) from None
    except Exception as exc:
        raise AssertionError(
            f"{situation}, the {closer_name}'s aclose() raised {describe(exc, causes=True)}: "
            "a failed close_notify must not be raised"
        ) from exc


async def _closed_afterwards(closer: Any, *, closer_name: str, situation: str) -> None:
    operations: tuple[tuple[str, Callable[[], Awaitable[object]]], ...] = (
        ("receive()", closer.receive),
        ("send(b'x')", lambda: closer.send(b"x")),
    )
    for label, operation in operations:
        problem = await expect_raises(anyio.ClosedResourceError, operation)
        if problem is not None:
            raise AssertionError(
                f"{situation}, after the {closer_name}'s aclose() its {label} should raise "
                f"ClosedResourceError, but {problem}"
            )


def _sides(conn: Any, closer_name: str) -> tuple[Any, Any, Any]:
    """(closer, peer, peer's transport) of ``conn`` for the named closer."""
    if closer_name == "client":
        return conn.client, conn.server, conn.server_transport
    return conn.server, conn.client, conn.client_transport


async def _peer_gone(target: Target, closer_name: str) -> None:
    async with connection(target) as conn:
        closer, _, peer_transport = _sides(conn, closer_name)
        await peer_transport.aclose()  # the peer vanished: close_notify cannot be delivered
        situation = "with the peer's transport closed"
        await _close_quietly(closer, closer_name=closer_name, situation=situation)
        await _closed_afterwards(closer, closer_name=closer_name, situation=situation)


async def _receiver_waiting(target: Target, closer_name: str) -> None:
    situation = "with another task blocked in receive()"
    woken: list[BaseException | bytes] = []
    close_failure: AssertionError | None = None
    async with connection(target) as conn:
        closer, peer, _ = _sides(conn, closer_name)
        returned = anyio.Event()

        async def receive() -> None:
            try:
                woken.append(await closer.receive())
            except Exception as exc:
                woken.append(exc)
            returned.set()

        async def answer() -> None:
            # A live peer answers close_notify with its own, so a closer that waits for the
            # answer (which TLS allows) is not stuck; what the peer sees is not judged here.
            with suppress(Exception):
                while True:
                    await peer.receive()
            with suppress(Exception):
                await peer.aclose()

        # The verdicts are given outside the task group, so that they are not wrapped in an
        # exception group.
        async with anyio.create_task_group() as tg:
            tg.start_soon(receive)
            tg.start_soon(answer)
            await anyio.wait_all_tasks_blocked()
            try:
                await _close_quietly(closer, closer_name=closer_name, situation=situation)
            except AssertionError as exc:
                close_failure = exc
            with anyio.move_on_after(PATIENCE):
                await returned.wait()
            tg.cancel_scope.cancel()
        if close_failure is not None:
            raise close_failure
        if not woken:
            raise AssertionError(
                f"{situation}, that receive() was still blocked {PATIENCE:g} s after the "
                f"{closer_name}'s aclose() returned"
            )
        # The peer's answering close_notify may reach the blocked receive() before the close.
        if not isinstance(woken[0], anyio.ClosedResourceError | anyio.EndOfStream):
            outcome = (
                f"raised {describe(woken[0], causes=True)}"
                if isinstance(woken[0], BaseException)
                else f"returned {woken[0]!r}"
            )
            raise AssertionError(
                f"{situation}, the {closer_name}'s aclose() woke that receive(), which "
                f"{outcome} instead of raising ClosedResourceError"
            )
        await _closed_afterwards(closer, closer_name=closer_name, situation=situation)


async def _cancelled_close(target: Target, closer_name: str) -> None:
    situation = "in a cancelled scope"
    async with connection(target) as conn:
        closer, _, _ = _sides(conn, closer_name)
        with anyio.CancelScope() as scope:
            scope.cancel()
            try:
                await closer.aclose()
            except Exception as exc:
                raise AssertionError(
                    f"{situation}, the {closer_name}'s aclose() raised "
                    f"{describe(exc, causes=True)} instead of the cancellation"
                ) from exc
        await _closed_afterwards(closer, closer_name=closer_name, situation=situation)


@check("TLS-ACLOSE-QUIET", needs=("tls_stream",))
async def tls_aclose_quiet(ctx: Context) -> None:
    for closer_name in ("client", "server"):
        for situation in (_peer_gone, _receiver_waiting, _cancelled_close):
            await situation(ctx.target, closer_name)


# -- TLS-UNWRAP ---------------------------------------------------------------------------------


@contextmanager
def _promptly(what: str) -> Iterator[None]:
    """Fail if the body takes longer than :data:`PATIENCE`: ``what`` never finished."""
    with anyio.move_on_after(PATIENCE) as scope:
        yield
    if scope.cancelled_caught:
        raise AssertionError(f"{what} did not finish within {PATIENCE:g} s")


async def _unwrap(stream: Any, *, side: str) -> tuple[Any, bytes]:
    try:
        with _promptly(f"the {side}'s unwrap()"):
            transport, leftover = await stream.unwrap()
    except AssertionError:
        raise
    except Exception as exc:
        raise AssertionError(f"the {side}'s unwrap() raised {describe(exc, causes=True)}") from exc
    if not isinstance(leftover, bytes):
        raise AssertionError(f"the {side}'s unwrap() returned {leftover!r} as the bytes read")
    return transport, leftover


async def _plaintext_arrives(transport: Any, leftover: bytes, sent: bytes, *, what: str) -> None:
    """What unwrap() returned, then what the transport delivers, must be ``sent``."""
    if not sent.startswith(leftover):
        raise AssertionError(
            f"{what}: unwrap() returned {leftover!r}, which is not the start of the plaintext "
            f"sent after the session ended ({sent!r})"
        )
    await _receive_exactly(transport, sent[len(leftover) :], what=f"{what} after unwrap()")


@check("TLS-UNWRAP", needs=("tls_stream",))
async def tls_unwrap(ctx: Context) -> None:
    async with connection(ctx.target) as conn:
        # Traffic both ways first, so the session is in full use when it ends.
        for sender, receiver, what in (
            (conn.client, conn.server, "client to server"),
            (conn.server, conn.client, "server to client"),
        ):
            await sender.send(f"{what} over TLS".encode())
            await _receive_exactly(receiver, f"{what} over TLS".encode(), what=what)

        # The client's transport holds delivery, so the server's close_notify and the plaintext
        # the server sends right after its unwrap() reach the client as one chunk: the client's
        # unwrap() reads past the session's end and must hand those bytes back.
        from_server, from_client = b"plaintext from the server", b"plaintext from the client"
        unwrapped: dict[str, tuple[Any, bytes]] = {}

        async def client_side() -> None:
            unwrapped["client"] = await _unwrap(conn.client, side="client")

        async def server_side() -> None:
            unwrapped["server"] = transport, _ = await _unwrap(conn.server, side="server")
            await transport.send(from_server)
            conn.client_transport.release()

        conn.client_transport.hold()
        await _gather(client_side, server_side)
        client_transport, client_leftover = unwrapped["client"]
        server_transport, server_leftover = unwrapped["server"]
        await _plaintext_arrives(
            client_transport, client_leftover, from_server, what="server to client"
        )
        await client_transport.send(from_client)
        await _plaintext_arrives(
            server_transport, server_leftover, from_client, what="client to server"
        )


# -- TLS-ALPN, TLS-ATTRIBUTES -------------------------------------------------------------------

#: Every public TLSAttribute, by name (read from the class, so new ones are checked too).
_TLS_ATTRIBUTES: dict[str, object] = {
    name: getattr(TLSAttribute, name) for name in TLSAttribute.__annotations__
}


def _attribute(stream: Any, name: str, *, side: str) -> Any:
    try:
        return stream.extra(_TLS_ATTRIBUTES[name])
    except anyio.TypedAttributeLookupError:
        raise AssertionError(f"the {side} does not provide TLSAttribute.{name}") from None


@check("TLS-ALPN", needs=("tls_stream",))
async def tls_alpn(ctx: Context) -> None:
    # "streamspec/1" is the only protocol both sides offer, whatever the preference order.
    async with connection(
        ctx.target,
        client_alpn=("streamspec/1", "streamspec/3"),
        server_alpn=("streamspec/2", "streamspec/1"),
    ) as conn:
        for side, stream in (("client", conn.client), ("server", conn.server)):
            agreed = _attribute(stream, "alpn_protocol", side=side)
            if agreed != "streamspec/1":
                raise AssertionError(
                    f"the {side} reports alpn_protocol {agreed!r}, but 'streamspec/1' was agreed"
                )
    async with connection(ctx.target) as conn:
        for side, stream in (("client", conn.client), ("server", conn.server)):
            agreed = _attribute(stream, "alpn_protocol", side=side)
            if agreed is not None:
                raise AssertionError(
                    f"the {side} reports alpn_protocol {agreed!r} although neither side "
                    "offered ALPN, expected None"
                )


def _is_cipher(value: object) -> bool:
    return (
        isinstance(value, tuple)
        and len(value) == 3
        and isinstance(value[0], str)
        and isinstance(value[1], str)
        and isinstance(value[2], int)
    )


def _attribute_problems(client: Mapping[str, Any], server: Mapping[str, Any]) -> Iterator[str]:
    """What is implausible in the attributes the two sides report (by attribute name)."""
    for side, values, is_server in (("client", client, False), ("server", server, True)):
        if values["server_side"] is not is_server:
            yield f"the {side} reports server_side={values['server_side']!r}"
        if not isinstance(values["ssl_object"], ssl.SSLObject):
            yield f"the {side} reports ssl_object={values['ssl_object']!r}, not an ssl.SSLObject"
        elif values["ssl_object"].server_side is not is_server:
            yield f"the {side}'s ssl_object is the other side's"
        if not re.fullmatch(r"TLSv1(\.[0-3])?", str(values["tls_version"])):
            yield f"the {side} reports tls_version={values['tls_version']!r}"
        if not _is_cipher(values["cipher"]):
            yield f"the {side} reports cipher={values['cipher']!r}, not (name, protocol, bits)"
        if not (isinstance(values["channel_binding_tls_unique"], bytes)):
            yield (
                f"the {side} reports channel_binding_tls_unique="
                f"{values['channel_binding_tls_unique']!r}, not bytes"
            )
        if values["alpn_protocol"] is not None:
            yield f"the {side} reports alpn_protocol={values['alpn_protocol']!r} without ALPN"
    for name in ("tls_version", "cipher", "channel_binding_tls_unique"):
        if client[name] != server[name]:
            yield f"the sides disagree on {name}: {client[name]!r} and {server[name]!r}"
    if client["standard_compatible"] is not True or server["standard_compatible"] is not False:
        yield (
            "standard_compatible should be True on the client and False on the server, as "
            f"given to wrap(); they report {client['standard_compatible']!r} and "
            f"{server['standard_compatible']!r}"
        )
    certificate = client["peer_certificate"]
    if not isinstance(certificate, dict) or ("DNS", SERVER_HOSTNAME) not in certificate.get(
        "subjectAltName", ()
    ):
        yield f"the client's peer_certificate is {certificate!r}, not the server's certificate"
    if client["peer_certificate_binary"] != server_certificate_der():
        yield "the client's peer_certificate_binary is not the server's certificate in DER"
    for name in ("peer_certificate", "peer_certificate_binary"):
        if server[name] is not None:
            yield f"the server reports {name}={server[name]!r} but the client sent no certificate"
    shared = server["shared_ciphers"]
    if not (isinstance(shared, list) and shared and all(_is_cipher(c) for c in shared)):
        yield f"the server reports shared_ciphers={shared!r}, not a list of ciphers"
    if client["shared_ciphers"] is not None:
        yield f"the client reports shared_ciphers={client['shared_ciphers']!r}, expected None"


@check("TLS-ATTRIBUTES", needs=("tls_stream",))
async def tls_attributes(ctx: Context) -> None:
    # Different standard_compatible flags, to see that each side reports its own.
    async with connection(ctx.target, client_compatible=True, server_compatible=False) as conn:
        sides = {"client": conn.client, "server": conn.server}
        reported = {
            side: {name: _attribute(stream, name, side=side) for name in _TLS_ATTRIBUTES}
            for side, stream in sides.items()
        }
        problems = list(_attribute_problems(reported["client"], reported["server"]))
        for side, stream in sides.items():
            label = stream.extra(ProbeAttribute.label, None)
            if label != f"{side} transport":
                problems.append(
                    f"the {side}'s transport attribute does not pass through (got {label!r})"
                )
    if problems:
        raise AssertionError("; ".join(problems))


# -- TLS-LISTENER-SURVIVES ----------------------------------------------------------------------


@asynccontextmanager
async def _byte_listener(
    target: Target,
) -> AsyncIterator[tuple[Any, Callable[[], Awaitable[Any]]]]:
    """The target's listener of byte streams if it has one, else TCP on 127.0.0.1."""
    for _, factory in target.factories("listener")[:1]:  # the first, if there are several
        async with CleanUp(factory()) as (listener, connect):
            yield listener, connect
        return
    tcp_listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = tcp_listener.extra(SocketAttribute.local_port)
    try:
        yield tcp_listener, lambda: anyio.connect_tcp("127.0.0.1", port)
    finally:
        await tcp_listener.aclose()


@contextmanager
def _quiet_logs(listener: object) -> Iterator[None]:
    """Keep the handshake errors the check provokes from being printed as if they mattered.

    A listener logs failed handshakes, typically on its module's logger. With no handler
    anywhere, Python prints such records to stderr; a handler on those loggers stops that and
    leaves propagation (and pytest's log capture) alone.
    """
    loggers = {logging.getLogger(cls.__module__) for cls in type(listener).__mro__}
    sink = logging.NullHandler()
    for logger in loggers:
        logger.addHandler(sink)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeHandler(sink)


def _client_hello() -> bytes:
    """The first flight of a real TLS client, to leave a handshake half done."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = client_context().wrap_bio(incoming, outgoing, server_hostname=SERVER_HOSTNAME)
    with suppress(ssl.SSLWantReadError):
        tls.do_handshake()
    return outgoing.read()


async def _dropped(stream: Any, *, within: float, who: str) -> None:
    """Wait until the server ends ``stream`` (whatever it sends first is ignored)."""
    with anyio.move_on_after(within):
        try:
            while True:
                await stream.receive()
        except (anyio.EndOfStream, anyio.BrokenResourceError):
            return
    raise AssertionError(f"the listener did not close the connection of {who} within {within:g} s")


async def _troublemakers_then_good_client(
    target: Target, connect: Callable[[], Awaitable[Any]], stage: list[str]
) -> None:
    clients: list[Any] = []

    async def connected() -> Any:
        clients.append(await connect())
        return clients[-1]

    try:
        stage.append("a client that sends nothing")
        stalled = await connected()

        stage.append("a client that sends garbage")
        garbage = await connected()
        await garbage.send(b"this is not a TLS ClientHello\r\n" * 4)
        await _dropped(garbage, within=PATIENCE, who=stage[-1])

        stage.append("a client that vanishes mid-handshake")
        vanishing = await connected()
        await vanishing.send(_client_hello())
        with _promptly("the listener's answer to a ClientHello"):
            await vanishing.receive()
        await vanishing.aclose()

        stage.append("the client that sends nothing, past handshake_timeout")
        await _dropped(stalled, within=_HANDSHAKE_TIMEOUT + PATIENCE, who=stage[0])

        stage.append("a good client")
        with _promptly("the good client's handshake"):
            good = await target.tls_stream.wrap(
                await connected(),
                server_side=False,
                hostname=SERVER_HOSTNAME,
                ssl_context=client_context(),
            )
        clients.append(good)
        await good.send(b"hello")
        await _receive_exactly(good, b"welcome, hello", what="the listener's handler to a client")
    finally:
        for client in reversed(clients):
            await close_forcefully(client)


@check("TLS-LISTENER-SURVIVES", needs=("tls_listener", "tls_stream"))
async def tls_listener_survives(ctx: Context) -> None:
    async def handler(stream: Any) -> None:
        try:
            greeting = await stream.receive()
            await stream.send(b"welcome, " + greeting)
        finally:
            await close_forcefully(stream)

    stage: list[str] = []  # what the check is doing, for the report
    stopped: list[str] = []
    failures: list[Exception] = []
    async with _byte_listener(ctx.target) as (listener, connect):
        make_tls_listener = ctx.target.tls_listener
        assert make_tls_listener is not None  # the check needs it, so the runner ensured it
        tls_listener = make_tls_listener(
            listener,
            server_context(),
            standard_compatible=True,
            handshake_timeout=_HANDSHAKE_TIMEOUT,
        )

        async def serve() -> None:
            try:
                await tls_listener.serve(handler)
            except Exception as exc:
                stopped.append(f"serve() raised {describe(exc, causes=True)}")
            else:
                stopped.append("serve() returned")
            tg.cancel_scope.cancel()

        with _quiet_logs(tls_listener):
            async with anyio.create_task_group() as tg:
                tg.start_soon(serve)
                try:
                    await _troublemakers_then_good_client(ctx.target, connect, stage)
                except Exception as exc:
                    failures.append(exc)
                tg.cancel_scope.cancel()
        await close_forcefully(tls_listener)
    if stopped:
        raise AssertionError(f"{stopped[0]} while the check was on {stage[-1]}")
    if failures:
        raise failures[0]
