"""The byte rules also run over the target's TLS stream: the TLS byte subject.

A target with ``tls_stream`` gets a byte pair named :data:`~streamspec.conformance.subjects.
TLS_PAIR` (client left, server right, over the suite's in-memory transport); a target without
one does not. A TLS stream that cannot half-close (AnyIO's) is left out of BYTE-SEND-EOF and
finished by ``aclose()`` elsewhere; one that can (ours) is checked by BYTE-SEND-EOF for real.
The stubs that break byte rules through TLS alone are in ``stubs/broken_tls_*.py`` and are
rejected by tests/test_suite_on_stubs.py.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import anyio
import anyio.streams.tls
import pytest
from anyio.streams.tls import TLSAttribute

from streamspec import tls
from streamspec.conformance import Outcome, Target, run_checks
from streamspec.conformance.instruments import transfer
from streamspec.conformance.observe import named
from streamspec.conformance.subjects import (
    TLS_PAIR,
    BytePair,
    Subject,
    byte_channels,
    byte_pairs,
    resource_subjects,
)
from streamspec.conformance.targets import ANYIO, STREAMSPEC

BACKENDS = ["asyncio", "trio"]
#: Targets with nothing but a TLS stream: the byte rules then see the TLS subject alone.
OURS_ONLY = Target(name="streamspec TLS only", tls_stream=tls.TLSStream)
ANYIO_ONLY = Target(name="anyio TLS only", tls_stream=anyio.streams.tls.TLSStream)


def names(subjects: Sequence[Subject[Any]]) -> list[str]:
    return [subject.name for subject in subjects]


@pytest.mark.parametrize("target", [STREAMSPEC, ANYIO, OURS_ONLY], ids=lambda t: t.name)
def test_a_target_with_tls_has_the_tls_byte_subject(target: Target) -> None:
    assert names(byte_pairs(target))[-1] == TLS_PAIR
    assert TLS_PAIR in names(byte_channels(target))
    assert TLS_PAIR in names(resource_subjects(target))


@pytest.mark.parametrize("target", [STREAMSPEC, ANYIO], ids=lambda t: t.name)
def test_a_target_without_tls_has_no_tls_byte_subject(target: Target) -> None:
    without = dataclasses.replace(target, tls_stream=None, tls_listener=None)
    before = names(byte_pairs(target))
    assert names(byte_pairs(without)) == [n for n in before if n != TLS_PAIR]
    assert TLS_PAIR not in names(byte_channels(without))
    assert TLS_PAIR not in names(resource_subjects(without))
    assert byte_pairs(Target(name="nothing")) == []


def tls_pair(target: Target) -> Subject[BytePair]:
    (subject,) = [s for s in byte_pairs(target) if s.name == TLS_PAIR]
    return subject


@pytest.mark.anyio
@pytest.mark.parametrize("target", [STREAMSPEC, ANYIO], ids=lambda t: t.name)
async def test_the_tls_pair_is_a_client_and_a_server_after_the_handshake(target: Target) -> None:
    with anyio.fail_after(5):
        async with named(tls_pair(target)) as pair:
            assert pair.left.extra(TLSAttribute.server_side) is False
            assert pair.right.extra(TLSAttribute.server_side) is True
            await pair.right.send(b"from the server")
            assert await pair.left.receive() == b"from the server"


@pytest.mark.anyio
@pytest.mark.parametrize("target", [STREAMSPEC, ANYIO], ids=lambda t: t.name)
async def test_leaving_the_tls_pair_closes_both_ends(target: Target) -> None:
    with anyio.fail_after(5):
        async with named(tls_pair(target)) as pair:
            pass
        for end in (pair.left, pair.right):
            with pytest.raises((anyio.ClosedResourceError, anyio.BrokenResourceError)):
                await end.send(b"after the subject was closed")


@pytest.mark.anyio
@pytest.mark.parametrize("target", [OURS_ONLY, ANYIO_ONLY], ids=lambda t: t.name)
async def test_the_tls_channel_ends_cleanly_with_or_without_send_eof(target: Target) -> None:
    # AnyIO's send_eof() raises NotImplementedError: its channel is finished by aclose().
    (channel,) = byte_channels(target)
    with anyio.fail_after(5):
        async with named(channel) as opened:
            got = await transfer(opened.sender, opened.receiver, opened.finish, [b"ab", b"c"], [1])
    assert got == [b"a", b"b", b"c"]


@pytest.mark.anyio
async def test_a_failure_inside_a_tls_channel_comes_out_as_itself() -> None:
    # The channel runs a task group (for a background aclose()); the check's own
    # AssertionError must not come out wrapped in an exception group.
    (channel,) = byte_channels(ANYIO_ONLY)
    with pytest.raises(AssertionError, match="the verdict"):
        async with named(channel):
            raise AssertionError("the verdict")


def test_our_tls_stream_is_checked_by_byte_send_eof() -> None:
    # The TLS pair is the only pair, so a skipped pair would make the rule not provided.
    results = run_checks(OURS_ONLY, rules=["BYTE-SEND-EOF"], backends=BACKENDS)
    assert [(r.backend, r.outcome) for r in results] == [
        ("asyncio", Outcome.PASSED),
        ("trio", Outcome.PASSED),
    ], [r.message for r in results]


def test_a_tls_stream_that_cannot_half_close_is_not_a_byte_send_eof_failure() -> None:
    results = run_checks(ANYIO_ONLY, rules=["BYTE-SEND-EOF"], backends=BACKENDS)
    for result in results:
        assert result.outcome is Outcome.NOT_PROVIDED, result.message
        assert TLS_PAIR in result.message
        assert "NotImplementedError" in result.message


def test_anyio_tls_passes_the_byte_rules() -> None:
    # Everything the spec asks of a byte stream, the rules of half-closing aside (see above).
    results = run_checks(ANYIO_ONLY, roles=["byte"], backends=BACKENDS)
    assert results
    half_closing = {"BYTE-SEND-EOF", "BYTE-SEND-AFTER-EOF"}
    for result in results:
        expected = Outcome.NOT_PROVIDED if result.rule.id in half_closing else Outcome.PASSED
        assert result.outcome is expected, f"{result.rule.id} on {result.backend}: {result.message}"
