"""The reference text streams: incremental both ways (decision 9 in docs/design.rst).

Decoding does not depend on where the transport cut the bytes, never yields ``""`` before the
end, and reports a character cut short by the end according to ``errors``; encoding writes
the encoding of the concatenated text, so a byte-order mark appears once and a stateful
encoding is closed properly.
"""

from __future__ import annotations

import itertools
import math
import socket
from collections.abc import Callable, Sequence
from typing import Any

import anyio
import anyio.abc
import anyio.lowlevel
import anyio.streams.text
import pytest
from anyio.abc import SocketAttribute
from hypothesis import example, given
from hypothesis import strategies as st

from streamspec import (
    ByteReceiveStream,
    StrReceiveStream,
    StrSendStream,
    StrStream,
    create_memory_object_stream,
)
from streamspec.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from streamspec.stapled import StapledObjectStream
from streamspec.text import TextReceiveStream, TextSendStream, TextStream

pytestmark = pytest.mark.anyio

ENCODINGS = ["utf-8", "utf-16", "utf-32", "latin-1", "shift_jis"]


async def source_of(chunks: Sequence[bytes]) -> MemoryObjectReceiveStream[bytes]:
    """A receive stream that yields ``chunks`` as items, then ends."""
    send, receive = create_memory_object_stream[bytes](math.inf)
    async with send:
        for chunk in chunks:
            await send.send(chunk)
    return receive


async def receive_all(stream: StrReceiveStream) -> list[str]:
    """Every piece of text up to the end of the stream, which is then closed."""
    pieces = []
    with anyio.fail_after(5):
        async with stream:
            async for piece in stream:
                pieces.append(piece)
    return pieces


def cut(data: bytes, points: Sequence[int]) -> list[bytes]:
    """``data`` cut at the drawn points (taken modulo its length), in order."""
    edges = sorted({0, len(data), *(p % (len(data) + 1) for p in points)})
    return [data[a:b] for a, b in itertools.pairwise(edges)]


def encodable(encoding: str) -> Callable[[str], bool]:
    def check(text: str) -> bool:
        try:
            text.encode(encoding)
        except UnicodeEncodeError:
            return False
        return True

    return check


#: Text that mixes ASCII with characters of every UTF-8 length, and Japanese for shift_jis.
texts = st.text(
    st.one_of(
        st.sampled_from("ab\n"),
        st.sampled_from("åäöé"),
        st.sampled_from("日本語カナ"),
        st.characters(codec="utf-8"),
    ),
    max_size=40,
)
#: Where the transport cuts the encoded bytes.
cut_points = st.lists(st.integers(0, 400), max_size=12)


# -- decoding ---------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ENCODINGS)
@given(text=texts, points=cut_points)
@example(text="日本", points=[1, 2, 3, 4, 5])
async def test_decoded_text_does_not_depend_on_the_chunking(
    encoding: str, text: str, points: list[int]
) -> None:
    text = "".join(c for c in text if encodable(encoding)(c))
    stream = TextReceiveStream(await source_of(cut(text.encode(encoding), points)), encoding)
    pieces = await receive_all(stream)
    assert "".join(pieces) == text
    assert all(pieces), f"an empty piece before the end: {pieces!r}"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "shift_jis"])
async def test_a_character_split_across_chunks_arrives_once_and_whole(encoding: str) -> None:
    data = "x日y".encode(encoding)
    start = len("x".encode(encoding))  # where the encoding of 日 begins
    pieces = [data[: start + 1], data[start + 1 :]]
    stream = TextReceiveStream(await source_of(pieces), encoding)
    assert "".join(await receive_all(stream)) == "x日y"


async def test_a_chunk_holding_only_part_of_a_character_yields_nothing() -> None:
    send, receive = create_memory_object_stream[bytes](math.inf)
    stream = TextReceiveStream(receive)
    await send.send("€".encode()[:2])
    with anyio.move_on_after(0) as scope:  # a receive that would return "" must wait instead
        await stream.receive()
    assert scope.cancelled_caught
    await send.send("€".encode()[2:])
    assert await stream.receive() == "€"
    await send.aclose()
    await stream.aclose()


@pytest.mark.parametrize(
    ("errors", "expected"), [("replace", ["ok", "\ufffd"]), ("ignore", ["ok"])]
)
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16-le", "shift_jis"])
async def test_a_character_truncated_by_the_end_is_reported_per_errors(
    encoding: str, errors: str, expected: list[str]
) -> None:
    data = "ok".encode(encoding) + "日".encode(encoding)[:-1]
    stream = TextReceiveStream(await source_of([data]), encoding, errors)
    assert "".join(await receive_all(stream)) == "".join(expected)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-32", "shift_jis"])
async def test_a_truncated_character_is_an_error_when_strict_then_the_stream_ends(
    encoding: str,
) -> None:
    data = "ok日".encode(encoding)[:-1]
    stream = TextReceiveStream(await source_of([data]), encoding)
    assert await stream.receive() == "ok"
    with pytest.raises(UnicodeDecodeError):
        await stream.receive()
    with pytest.raises(anyio.EndOfStream):
        await stream.receive()
    await stream.aclose()


async def test_an_invalid_byte_is_an_error_when_strict_and_decoding_goes_on() -> None:
    stream = TextReceiveStream(await source_of([b"ok", b"\xff", b"fine"]))
    assert await stream.receive() == "ok"
    with pytest.raises(UnicodeDecodeError) as caught:
        await stream.receive()
    assert caught.value.object == b"\xff"
    assert await stream.receive() == "fine"
    await stream.aclose()


async def test_decodes_over_a_byte_stream_too() -> None:
    class Bytes(anyio.abc.ByteReceiveStream):
        def __init__(self) -> None:
            self.parts = ["å".encode()[:1], "å".encode()[1:] + b"!"]

        async def receive(self, max_bytes: int = 65536) -> bytes:
            await anyio.lowlevel.checkpoint()
            if not self.parts:
                raise anyio.EndOfStream
            return self.parts.pop(0)

        async def aclose(self) -> None:
            pass

    transport: ByteReceiveStream = Bytes()
    assert await receive_all(TextReceiveStream(transport)) == ["å!"]


# -- encoding ---------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "utf-8-sig", "iso2022_jp", "utf-8"])
@given(pieces=st.lists(st.text(st.sampled_from("ab日本\n"), max_size=5), max_size=6))
async def test_sent_bytes_are_the_encoding_of_the_concatenated_text(
    encoding: str, pieces: list[str]
) -> None:
    send, receive = create_memory_object_stream[bytes](math.inf)
    async with receive:
        stream = TextSendStream(send, encoding)
        for piece in pieces:
            await stream.send(piece)
        await stream.aclose()  # writes a stateful encoding's closing bytes
        sent = [chunk async for chunk in receive]
    assert all(sent), "an empty chunk was sent"
    if any(pieces):
        assert b"".join(sent) == "".join(pieces).encode(encoding)
    else:  # no text, no byte-order mark either
        assert b"".join(sent) in (b"", "".encode(encoding))


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "utf-8-sig"])
async def test_a_byte_order_mark_is_written_once_not_per_send(encoding: str) -> None:
    send, receive = create_memory_object_stream[bytes](math.inf)
    stream = TextSendStream(send, encoding)
    for piece in "ab", "c", "d":
        await stream.send(piece)
    await stream.aclose()
    async with receive:
        data = b"".join([chunk async for chunk in receive])
    assert data == "abcd".encode(encoding)
    bom = "".encode(encoding) or "a".encode(encoding)[:3]
    assert data.count(bom) == 1


@pytest.mark.parametrize(
    "cls", [TextSendStream, anyio.streams.text.TextSendStream], ids=["streamspec", "anyio"]
)
async def test_a_cancelled_send_leaves_the_byte_order_mark_to_the_next(cls: Any) -> None:
    """Ours writes the mark with the next send; AnyIO 4.16 loses it (decision 9 divergence)."""
    send, receive = create_memory_object_stream[bytes](1)
    stream = cls(send, "utf-16")
    with anyio.CancelScope() as scope:
        scope.cancel()
        await stream.send("lost")  # the memory stream's send is a checkpoint: nothing is sent
    await stream.send("x")
    data = receive.receive_nowait()
    if cls is TextSendStream:
        assert data == "x".encode("utf-16")
    else:
        assert data == "x".encode("utf-16-le")  # no byte-order mark at all
    await send.aclose()
    await receive.aclose()


@pytest.mark.parametrize(
    "cls", [TextSendStream, anyio.streams.text.TextSendStream], ids=["streamspec", "anyio"]
)
async def test_closing_writes_a_stateful_encodings_closing_bytes(cls: Any) -> None:
    """iso2022_jp must return to ASCII before the end; AnyIO 4.16 never writes the escape."""
    send, receive = create_memory_object_stream[bytes](math.inf)
    stream = cls(send, "iso2022_jp")
    await stream.send("日本")
    await stream.aclose()
    async with receive:
        data = b"".join([chunk async for chunk in receive])
    complete = "日本".encode("iso2022_jp")
    assert data == (complete if cls is TextSendStream else complete[:-3])


async def test_an_unencodable_string_sends_nothing_when_strict() -> None:
    send, receive = create_memory_object_stream[bytes](math.inf)
    stream = TextSendStream(send, "latin-1")
    with pytest.raises(UnicodeEncodeError):
        await stream.send("日")
    await stream.send("é")
    assert receive.receive_nowait() == b"\xe9"
    await stream.aclose()
    await receive.aclose()


async def test_errors_applies_to_encoding() -> None:
    send, receive = create_memory_object_stream[bytes](math.inf)
    stream = TextSendStream(send, "ascii", "xmlcharrefreplace")
    assert stream.errors == "xmlcharrefreplace"
    await stream.send("é")
    assert receive.receive_nowait() == b"&#233;"
    await stream.aclose()
    await receive.aclose()


# -- construction -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "argument"),
    [
        ({"encoding": "no-such-codec"}, LookupError, "encoding"),
        ({"encoding": "hex"}, LookupError, "encoding"),
        ({"errors": "no-such-handler"}, LookupError, "errors"),
        ({"encoding": None}, TypeError, "encoding"),
        ({"errors": 1}, TypeError, "errors"),
    ],
)
@pytest.mark.parametrize("cls", [TextReceiveStream, TextSendStream, TextStream])
async def test_bad_codec_names_are_refused_at_construction(
    cls: Any, kwargs: dict[str, Any], error: type[Exception], argument: str
) -> None:
    send, receive = create_memory_object_stream[bytes]()
    with pytest.raises(error, match=argument):
        cls(StapledObjectStream(send, receive), **kwargs)
    send.close()
    receive.close()


@pytest.mark.parametrize("wrong", [b"bytes", 5, None])
async def test_sending_a_non_str_raises_type_error_naming_item_and_sends_nothing(
    wrong: object,
) -> None:
    send, receive = create_memory_object_stream[bytes](math.inf)
    stream = TextSendStream(send, "utf-16")
    with pytest.raises(TypeError, match="item"):
        await stream.send(wrong)  # type: ignore[arg-type]
    await stream.send("ok")
    await stream.aclose()
    async with receive:
        assert b"".join([c async for c in receive]) == "ok".encode("utf-16")


# -- the bidirectional stream and attributes --------------------------------------------------


def stapled_pair() -> tuple[
    StapledObjectStream[bytes], MemoryObjectSendStream[bytes], MemoryObjectReceiveStream[bytes]
]:
    """A bytes duplex, with the peer's ends: what the duplex sends arrives at the returned
    receive end, and what the returned send end sends, the duplex receives."""
    out_send, out_receive = create_memory_object_stream[bytes](math.inf)
    in_send, in_receive = create_memory_object_stream[bytes](math.inf)
    return StapledObjectStream(out_send, in_receive), in_send, out_receive


async def test_text_stream_send_eof_flushes_the_encoder_and_receiving_goes_on() -> None:
    duplex, peer_send, peer_receive = stapled_pair()
    stream = TextStream(duplex, "iso2022_jp")
    await stream.send("日本")
    await stream.send_eof()
    async with peer_receive:
        assert b"".join([c async for c in peer_receive]) == "日本".encode("iso2022_jp")
    await peer_send.send("語".encode("iso2022_jp"))
    await peer_send.aclose()
    assert await receive_all(stream) == ["語"]
    await stream.aclose()


async def test_text_stream_close_closes_the_transport_once() -> None:
    duplex, peer_send, peer_receive = stapled_pair()
    stream = TextStream(duplex, "utf-16")
    await stream.send("hi")
    await stream.aclose()
    async with peer_receive, peer_send:
        assert b"".join([c async for c in peer_receive]) == "hi".encode("utf-16")
        with pytest.raises(anyio.BrokenResourceError):
            await peer_send.send(b"late")


class Attributed(anyio.abc.ByteStream):
    """A byte stream that only has attributes."""

    async def receive(self, max_bytes: int = 65536) -> bytes:
        raise anyio.EndOfStream

    async def send(self, item: bytes) -> None:
        pass

    async def send_eof(self) -> None:
        pass

    async def aclose(self) -> None:
        pass

    @property
    def extra_attributes(self) -> dict[Any, Callable[[], Any]]:
        return {SocketAttribute.family: lambda: socket.AF_INET6}


@pytest.mark.parametrize("cls", [TextReceiveStream, TextSendStream, TextStream])
async def test_attributes_pass_through(cls: Any) -> None:
    assert cls(Attributed()).extra(SocketAttribute.family) is socket.AF_INET6


async def test_the_classes_fit_the_protocols_and_anyios_abcs() -> None:
    duplex, peer_send, peer_receive = stapled_pair()
    receiver: StrReceiveStream = TextReceiveStream(duplex)
    sender: StrSendStream = TextSendStream(duplex)
    both: StrStream = TextStream(duplex)
    assert isinstance(receiver, anyio.abc.ObjectReceiveStream)
    assert isinstance(sender, anyio.abc.ObjectSendStream)
    assert isinstance(both, anyio.abc.ObjectStream)
    await both.aclose()
    await peer_send.aclose()
    await peer_receive.aclose()
