"""The built-in targets on real transports give exactly the expected verdicts, and a target
can say what items its object streams carry.

AnyIO's streams over the operating system (UNIX, UDP and UNIX datagram sockets, a child
process's pipes, file streams over a FIFO) pass every rule of their roles except the known
divergences, which each reproduce a real defect of AnyIO's; asyncio's streams, through the
adapter, pass every byte and resource rule on asyncio and are not provided on Trio.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import anyio
import pytest
from anyio.abc import ObjectReceiveStream, ObjectSendStream
from anyio.streams.memory import MemoryObjectSendStream

from streamspec.conformance import RULES, Divergence, Outcome, Target, run_checks
from streamspec.conformance.targets import ANYIO
from streamspec.conformance.targets_asyncio import ASYNCIO

BACKENDS = ["asyncio", "trio"]
#: Short enough that a FIFO's hung checks cost seconds, long enough for every other check.
TIMEOUT = 5.0
OS_ROLES = ["resource", "byte", "unreliable"]


def verdicts(target: Target, **options: Any) -> dict[tuple[str, str], Outcome]:
    results = run_checks(target, backends=BACKENDS, timeout=TIMEOUT, **options)
    return {(r.rule.id, r.backend): r.outcome for r in results}


def anyio_os_only(*divergences: Divergence, **fields: Any) -> Target:
    """Some of the built-in anyio target's streams over the OS, with the divergences (the
    anyio target's own) that those streams show."""
    return Target(name="anyio OS streams", known_divergences=divergences, **fields)


def anyio_divergence(rule_id: str, *backends: str) -> Divergence:
    found = ANYIO.divergence(rule_id)
    assert found is not None, f"the anyio target has no divergence for {rule_id}"
    return replace(found, backends=backends)


def role_rules(*roles: str) -> list[str]:
    return [rule_id for rule_id, rule in RULES.items() if rule.role in roles]


def test_anyio_sockets_and_process_pipe_give_the_expected_verdicts() -> None:
    assert isinstance(ANYIO.byte_stream_pair, dict)
    assert isinstance(ANYIO.one_way_byte_stream, dict)
    target = anyio_os_only(
        anyio_divergence("ASYNC-CHECKPOINT", "asyncio"),  # the process's stdout
        anyio_divergence("BYTE-CLOSED"),  # the UNIX socket's send_eof() after aclose()
        # closing the process's stdout does not close the pipe
        anyio_divergence("BYTE-SEND-PEER-CLOSED", "asyncio"),
        byte_stream_pair={"UNIX socket pair": ANYIO.byte_stream_pair["UNIX socket pair"]},
        one_way_byte_stream={"process pipe (cat)": ANYIO.one_way_byte_stream["process pipe (cat)"]},
        unreliable_object_stream=ANYIO.unreliable_object_stream,
        object_items="bytes",
    )
    diverging = {
        ("ASYNC-CHECKPOINT", "asyncio"),
        ("BYTE-CLOSED", "asyncio"),
        ("BYTE-CLOSED", "trio"),
        ("BYTE-SEND-PEER-CLOSED", "asyncio"),
    }
    got = verdicts(target, roles=OS_ROLES)
    expected = {
        (rule_id, backend): (
            Outcome.KNOWN_DIVERGENCE if (rule_id, backend) in diverging else Outcome.PASSED
        )
        for rule_id in role_rules(*OS_ROLES)
        for backend in BACKENDS
    }
    assert got == expected


def test_anyio_file_streams_over_a_fifo_diverge_where_a_read_cannot_be_cancelled() -> None:
    assert isinstance(ANYIO.one_way_byte_stream, dict)
    fifo = ANYIO.one_way_byte_stream["file streams over a FIFO"]
    # A read that cannot be cancelled or woken, and a send that is never flushed.
    diverging = ["BYTE-RECEIVE-CANCELLED", "BYTE-CLOSED-WAKES", "BYTE-SEND-DELIVERS"]
    target = anyio_os_only(
        *(anyio_divergence(rule_id) for rule_id in diverging),
        anyio_divergence("ASYNC-CHECKPOINT"),
        one_way_byte_stream={"file streams over a FIFO": fifo},
    )
    rules = [*diverging, "ASYNC-CHECKPOINT"]
    results = run_checks(target, rules=rules, backends=["asyncio"], timeout=TIMEOUT)
    assert {r.rule.id: r.outcome for r in results} == {
        **dict.fromkeys(diverging, Outcome.KNOWN_DIVERGENCE),
        # Its data never arrives before the writer closes, so the checkpoints of a receive()
        # with data ready cannot be tried: not provided, rather than a hang.
        "ASYNC-CHECKPOINT": Outcome.NOT_PROVIDED,
    }, [(r.rule.id, r.outcome, r.message) for r in results]
    (checkpoint,) = (r for r in results if r.rule.id == "ASYNC-CHECKPOINT")
    assert "b'ready' did not reach the peer within 3 s (BYTE-SEND-DELIVERS)" in checkpoint.message
    passing = ["BYTE-INTACT", "BYTE-EOF", "BYTE-MAX-BYTES", "RES-ACLOSE-CANCELLED", "RES-CONTEXT"]
    assert verdicts(target, rules=passing) == {
        (rule_id, backend): Outcome.PASSED for rule_id in passing for backend in BACKENDS
    }


def test_asyncio_streams_pass_every_byte_and_resource_rule_on_asyncio_only() -> None:
    results = run_checks(ASYNCIO, backends=BACKENDS, timeout=TIMEOUT)
    got = {(r.rule.id, r.backend): r.outcome for r in results}
    expected = {
        (rule_id, backend): Outcome.PASSED
        if backend == "asyncio" and rule.role in ("byte", "resource")
        else Outcome.NOT_PROVIDED
        for rule_id, rule in RULES.items()
        for backend in BACKENDS
    }
    assert got == expected
    on_trio = {r.message for r in results if r.backend == "trio"}
    assert any("asyncio streams outside an asyncio backend" in m for m in on_trio), on_trio


# -- what object streams carry -------------------------------------------------------------------


class BytesOnlySendStream(ObjectSendStream[bytes]):
    """Refuses anything but bytes, as a datagram socket does."""

    def __init__(self, inner: MemoryObjectSendStream[bytes]) -> None:
        self._inner = inner

    async def send(self, item: bytes) -> None:
        if not isinstance(item, bytes):
            raise TypeError(f"only bytes can be sent, not {type(item).__name__}")
        await self._inner.send(item)

    async def aclose(self) -> None:
        await self._inner.aclose()


@asynccontextmanager
async def bytes_only_pair() -> AsyncIterator[
    tuple[ObjectSendStream[bytes], ObjectReceiveStream[bytes]]
]:
    send, receive = anyio.create_memory_object_stream[bytes](1)
    async with send, receive:
        yield BytesOnlySendStream(send), receive


BYTES_ONLY = Target(name="bytes only", object_stream_pair=bytes_only_pair, object_items="bytes")


def test_object_rules_send_only_bytes_to_a_stream_declared_to_carry_bytes() -> None:
    got = verdicts(BYTES_ONLY, roles=["object"])
    expected = {
        (rule_id, backend): Outcome.NOT_PROVIDED
        # Bytes arrive as equal copies at best, and the stream has no send_eof().
        if rule_id in ("OBJ-IDENTITY", "OBJ-SEND-EOF", "OBJ-SEND-AFTER-EOF")
        else Outcome.PASSED
        for rule_id in role_rules("object")
        for backend in BACKENDS
    }
    assert got == expected


def test_the_same_stream_fails_when_it_is_said_to_carry_any_object() -> None:
    undeclared = replace(BYTES_ONLY, object_items="any")
    (result,) = run_checks(undeclared, rules=["OBJ-FIFO"], backends=["asyncio"])
    assert result.outcome is Outcome.FAILED
    assert "TypeError" in result.message


def unreliable_memory_pair() -> Any:
    @asynccontextmanager
    async def pair() -> AsyncIterator[tuple[Any, Any]]:
        send, receive = anyio.create_memory_object_stream[Any](math.inf)
        async with send, receive:
            yield send, receive

    return pair


@pytest.mark.parametrize("items", ["any", "picklable", "bytes"])
def test_an_unreliable_stream_is_judged_with_the_items_it_declares(items: Any) -> None:
    target = Target(
        name="memory as unreliable",
        unreliable_object_stream=unreliable_memory_pair(),
        object_items=items,
    )
    got = verdicts(target, roles=["unreliable"])
    assert set(got.values()) == {Outcome.PASSED}, got
    assert len(got) == len(role_rules("unreliable")) * len(BACKENDS)


def test_the_unreliable_rules_are_not_provided_without_an_unreliable_stream() -> None:
    got = verdicts(BYTES_ONLY, roles=["unreliable"])
    assert set(got.values()) == {Outcome.NOT_PROVIDED}


def test_a_target_refuses_an_unknown_item_kind_and_an_empty_mapping() -> None:
    with pytest.raises(ValueError, match="object_items"):
        Target(name="bad", object_items="ints")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="byte_stream_pair"):
        Target(name="bad", byte_stream_pair={})


def test_several_factories_of_a_role_are_named_by_their_keys() -> None:
    assert [name for name, _ in ANYIO.factories("byte_stream_pair")] == [
        "TCP socket pair",
        "UNIX socket pair",
    ]
    assert [name for name, _ in BYTES_ONLY.factories("object_stream_pair")] == [
        "object_stream_pair"
    ]
    assert BYTES_ONLY.factories("listener") == []
