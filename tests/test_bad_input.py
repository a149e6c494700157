"""Bad arguments across the public API, one policy: the call raises TypeError or ValueError at
once, the message starts with the argument's name, and nothing already accepted is lost.

Hypothesis draws the bad values (booleans and other non-integers for counts, integers below
the minimum, objects that are not streams) and, for the stream operations, the bytes or items
waiting when the bad call is made; afterwards every one of them must still be readable.
TLS (``streamspec.tls``) is checked in its own tests.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from fractions import Fraction
from typing import Any, cast

import anyio
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from streamspec import create_memory_object_stream
from streamspec.adapters.asyncio import StreamReaderWriterByteStream
from streamspec.adapters.trio import (
    ByteStreamAsTrioStream,
    TrioByteReceiveStream,
    TrioByteSendStream,
    TrioByteStream,
    TrioListener,
    TrioObjectReceiveStream,
    TrioObjectSendStream,
)
from streamspec.buffered import BufferedByteReceiveStream, BufferedByteStream
from streamspec.stapled import MultiListener, StapledByteStream, StapledObjectStream, aclose_all
from streamspec.testing import byte_stream_pair, drawn_split
from streamspec.text import TextReceiveStream, TextSendStream, TextStream

pytestmark = pytest.mark.anyio

#: Values that are no integer at all, for any count (a bool is refused as one too).
NOT_INTEGERS = st.one_of(
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.fractions(max_denominator=5).map(Fraction),
    st.text(max_size=3),
    st.binary(max_size=3),
    st.none(),
    st.lists(st.integers(), max_size=2),
)

#: Objects that are not streams, nor listeners, nor anything with their methods.
NOT_STREAMS = st.one_of(
    st.none(),
    st.integers(),
    st.text(max_size=3),
    st.binary(max_size=3),
    st.lists(st.none(), max_size=2),
    st.builds(object),
)


def bad_counts(minimum: int) -> st.SearchStrategy[Any]:
    """What a count of at least ``minimum`` must refuse: non-integers and integers below it."""
    return st.one_of(NOT_INTEGERS, st.integers(max_value=minimum - 1))


def refused(call: Callable[[], object], name: str) -> None:
    """``call()`` raises TypeError or ValueError whose message starts with ``name``."""
    with pytest.raises((TypeError, ValueError)) as info:
        call()
    assert re.match(rf"{re.escape(name)}(?!\w)", str(info.value)), (name, info.value)


async def refused_async(call: Callable[[], Any], name: str) -> None:
    # A bad value taken for a good one could wait for data forever: fail instead.
    with pytest.raises((TypeError, ValueError)) as info, anyio.fail_after(5):
        await call()
    assert re.match(rf"{re.escape(name)}(?!\w)", str(info.value)), (name, info.value)


class _Stream:
    """A conforming byte stream that inherits from nothing (stream checks are duck-typed)."""

    async def receive(self, max_bytes: int = 65536) -> bytes:
        raise anyio.EndOfStream

    async def send(self, item: bytes) -> None:
        pass

    async def send_eof(self) -> None:
        pass

    async def aclose(self) -> None:
        pass


def _plain() -> Any:
    """A :class:`_Stream`, typed loosely: these tests are about the checks made at run time."""
    return _Stream()


# -- constructors ------------------------------------------------------------------------------

#: (what is built, the argument given the bad value): each takes the bad value and builds.
CONSTRUCTORS: list[tuple[Callable[[Any], object], str]] = [
    (BufferedByteReceiveStream, "receive_stream"),
    (BufferedByteStream, "stream"),
    (TextReceiveStream, "transport_stream"),
    (TextSendStream, "transport_stream"),
    (TextStream, "transport_stream"),
    (lambda bad: StapledByteStream(bad, _plain()), "send_stream"),
    (lambda bad: StapledByteStream(_plain(), bad), "receive_stream"),
    (lambda bad: StapledObjectStream(bad, _plain()), "send_stream"),
    (lambda bad: StapledObjectStream(_plain(), bad), "receive_stream"),
    (lambda bad: MultiListener([bad]), "listeners[0]"),
    (TrioByteReceiveStream, "stream"),
    (TrioByteSendStream, "stream"),
    (TrioByteStream, "stream"),
    (TrioObjectReceiveStream, "channel"),
    (TrioObjectSendStream, "channel"),
    (TrioListener, "listener"),
    (ByteStreamAsTrioStream, "stream"),
    (lambda bad: StreamReaderWriterByteStream(bad, bad), "reader"),
]


@pytest.mark.parametrize(("build", "name"), CONSTRUCTORS)
@given(bad=NOT_STREAMS)
def test_a_constructor_refuses_what_is_not_a_stream_naming_it(
    build: Callable[[Any], object], name: str, bad: object
) -> None:
    refused(lambda: build(bad), name)


def test_a_stream_that_inherits_from_nothing_is_accepted() -> None:
    # Duck typing: the checks ask for methods, never for AnyIO's classes.
    BufferedByteReceiveStream(_plain())
    BufferedByteStream(_plain())
    TextReceiveStream(_plain())
    TextSendStream(_plain())
    TextStream(_plain())
    StapledByteStream(_plain(), _plain())
    StapledObjectStream(_plain(), _plain())
    ByteStreamAsTrioStream(_plain())


@given(bad=st.one_of(st.text(max_size=3), st.integers(), st.none(), st.builds(object)))
def test_multilistener_refuses_a_non_sequence(bad: object) -> None:
    refused(lambda: MultiListener(bad), "listeners")  # type: ignore[arg-type]


@pytest.mark.parametrize("cls", [TextReceiveStream, TextSendStream, TextStream])
@pytest.mark.parametrize("argument", ["encoding", "errors"])
@given(bad=st.one_of(st.integers(), st.none(), st.binary(max_size=3), st.just("utf-8\0")))
def test_text_streams_refuse_a_codec_name_that_is_no_str(
    cls: Callable[..., object], argument: str, bad: object
) -> None:
    refused(lambda: cls(_plain(), **{argument: bad}), argument)


@pytest.mark.parametrize("cls", [TextReceiveStream, TextSendStream, TextStream])
def test_text_streams_refuse_an_unknown_codec_as_lookup_and_value_error(
    cls: Callable[..., object],
) -> None:
    for argument, value in [("encoding", "no-such-codec"), ("encoding", "hex"), ("errors", "?")]:
        with pytest.raises(LookupError, match=argument) as info:
            cls(_plain(), **{argument: value})
        assert isinstance(info.value, ValueError)


# -- the test doubles --------------------------------------------------------------------------


@given(bad=bad_counts(0))
def test_the_wire_controls_refuse_bad_amounts(bad: object) -> None:
    left, _right = byte_stream_pair()
    if bad is not None:  # release(None) releases everything
        refused(lambda: left.outgoing.release(bad), "amount")  # type: ignore[arg-type]
    refused(lambda: left.outgoing.break_after(bad), "amount")  # type: ignore[arg-type]
    refused(lambda: drawn_split(st.data(), max_cuts=bad), "max_cuts")  # type: ignore[arg-type]


@given(bad=bad_counts(1).filter(lambda value: value is not None and not isinstance(value, list)))
def test_a_split_size_is_a_positive_int(bad: object) -> None:
    refused(lambda: byte_stream_pair(split=bad), "split")  # type: ignore[arg-type]
    refused(lambda: byte_stream_pair(split=[2, bad]), "split")  # type: ignore[list-item]
    left, _right = byte_stream_pair(split=3)

    def set_split() -> None:
        left.outgoing.split = bad  # type: ignore[assignment]

    refused(set_split, "split")
    assert left.outgoing.split == 3


@given(bad=st.one_of(st.integers(), st.none(), st.text(max_size=2)))
def test_merge_is_a_bool(bad: object) -> None:
    refused(lambda: byte_stream_pair(merge=bad), "merge")  # type: ignore[arg-type]


# -- operations on streams holding data: nothing is lost ---------------------------------------

#: A bad call on a buffered stream: (method, arguments, the argument that is bad).
buffered_calls = st.one_of(
    st.tuples(st.just("receive"), st.tuples(bad_counts(1)), st.just("max_bytes")),
    st.tuples(st.just("receive_exactly"), st.tuples(bad_counts(0)), st.just("nbytes")),
    st.tuples(
        st.just("receive_until"), st.tuples(st.just(b"\n"), bad_counts(1)), st.just("max_bytes")
    ),
    st.tuples(
        st.just("receive_until"),
        st.tuples(st.one_of(st.just(b""), st.text(max_size=2), st.integers()), st.just(10)),
        st.just("delimiter"),
    ),
)


@given(
    buffered_part=st.binary(max_size=20),
    in_flight=st.lists(st.binary(min_size=1, max_size=10), max_size=3),
    call=buffered_calls,
)
async def test_a_bad_buffered_call_consumes_nothing(
    buffered_part: bytes, in_flight: list[bytes], call: tuple[str, tuple[Any, ...], str]
) -> None:
    method, arguments, name = call
    send, receive = create_memory_object_stream[bytes](10)
    stream = BufferedByteReceiveStream(receive)
    stream.feed_data(buffered_part)
    for chunk in in_flight:
        send.send_nowait(chunk)
    with send, receive:
        await refused_async(lambda: getattr(stream, method)(*arguments), name)
        expected = buffered_part + b"".join(in_flight)
        assert stream.buffer == buffered_part
        assert await stream.receive_exactly(len(expected)) == expected


@given(
    waiting=st.binary(min_size=1, max_size=20),
    bad=bad_counts(1),
    wrapper=st.sampled_from(["stapled", "fake", "buffered-duplex"]),
)
async def test_a_bad_max_bytes_consumes_nothing(waiting: bytes, bad: object, wrapper: str) -> None:
    left, right = byte_stream_pair()
    stream: Any = right
    if wrapper == "stapled":
        stream = StapledByteStream(right, right)
    elif wrapper == "buffered-duplex":
        stream = BufferedByteStream(right)
    await left.send(waiting)
    await refused_async(lambda: stream.receive(bad), "max_bytes")
    assert await stream.receive(len(waiting)) == waiting


@given(
    buffered=st.lists(st.integers(), min_size=1, max_size=5),
    bad=st.one_of(st.integers(), st.binary(max_size=3), st.none(), st.floats()),
)
async def test_a_bad_send_leaves_a_memory_buffer_as_it_was(
    buffered: list[int], bad: object
) -> None:
    """TextSendStream refuses a non-str item before it touches its memory transport."""
    send, receive = create_memory_object_stream[Any](math.inf)
    for item in buffered:
        send.send_nowait(item)
    with send, receive:
        text = TextSendStream(send)
        await refused_async(lambda: text.send(bad), "item")  # type: ignore[arg-type]
        assert receive.statistics().current_buffer_used == len(buffered)
        assert [receive.receive_nowait() for _ in buffered] == buffered


@given(bad=NOT_STREAMS)
async def test_aclose_all_checks_every_resource_before_closing_any(bad: object) -> None:
    first, second = byte_stream_pair()
    await refused_async(lambda: aclose_all([first, bad]), "resources[1]")  # type: ignore[list-item]
    await first.send(b"still open")
    assert await second.receive() == b"still open"
    await aclose_all([first, second])


@given(bad=bad_counts(1))
async def test_fake_streams_refuse_bad_max_bytes(bad: object) -> None:
    left, right = byte_stream_pair()
    await left.send(b"kept")
    await refused_async(lambda: right.receive(bad), "max_bytes")  # type: ignore[arg-type]
    assert await right.receive() == b"kept"


class _Listener:
    """A listener that inherits from nothing and records whether it was served."""

    served = False

    async def serve(self, handler: Any, task_group: Any = None) -> None:
        self.served = True

    async def aclose(self) -> None:
        pass


@given(
    bad=st.one_of(st.integers(), st.text(max_size=2), st.none(), st.builds(object)),
    argument=st.sampled_from(["handler", "task_group"]),
)
async def test_serve_refuses_a_bad_handler_or_task_group_before_serving(
    bad: object, argument: str
) -> None:
    assume(not (argument == "task_group" and bad is None))  # None is the default
    listener = _Listener()
    multi: MultiListener[Any] = MultiListener([cast(Any, listener)])
    arguments: dict[str, Any] = {"handler": print, "task_group": None, argument: bad}
    await refused_async(lambda: multi.serve(**arguments), argument)
    assert not listener.served
