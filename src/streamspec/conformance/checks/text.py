"""Checks of the ``text`` role: every text receiver and sender the target provides (see
:mod:`..subjects`), over a raw byte path the checks drive.

Decision 9 in docs/design.rst is the model: decoding is incremental, so the text never
depends on how the bytes were chunked; a character cut short by the end is reported
according to ``errors``; and the encoded output of several sends is the encoding of their
concatenation, with one byte-order mark. The expected values are computed with
:mod:`codecs` on the whole input.

Check failures carry their own messages, so pytest must not rewrite this module's asserts
(PYTEST_DONT_REWRITE): the pytest plugin's report then reads like the CLI's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import anyio
from hypothesis import given
from hypothesis import strategies as st

from ..instruments import ProbeStream, receive_chunks, send_all
from ..observe import named
from ..registry import Context, check
from ..strategies import (
    BOM_ENCODINGS,
    DECODE_ERROR_POLICIES,
    ENCODE_ERROR_POLICIES,
    ENCODINGS,
    EncodedText,
    TextPieces,
    Truncated,
    Undecodable,
    Unencodable,
    encoded_texts,
    text_pieces,
    truncated_texts,
    undecodable_texts,
    unencodable_texts,
)
from ..subjects import Subject, TextChannel, TextSink, close_quietly, text_channels, text_sinks

__all__: list[str] = []

T = TypeVar("T")

#: Receives a drain makes before it decides the text stream never ends.
_MAX_RECEIVES = 10_000


def _require_receivers(ctx: Context) -> None:
    if not text_channels(ctx.target, "utf-8", "strict"):
        ctx.not_provided("TextReceiveStream or TextStream")


def _require_senders(ctx: Context) -> None:
    if not text_sinks(ctx.target, "utf-8", "strict"):
        ctx.not_provided("TextSendStream or TextStream")


async def _decoded(
    subject: Subject[TextChannel], chunks: list[bytes]
) -> tuple[list[str], BaseException | None]:
    """Send ``chunks`` raw, end the stream and receive text until the end or an error:
    (the pieces received, the UnicodeError that ended them or None)."""
    pieces: list[str] = []
    error: BaseException | None = None
    async with named(subject) as channel, anyio.create_task_group() as tg:
        tg.start_soon(send_all, channel.sender, chunks, channel.finish)
        for _ in range(_MAX_RECEIVES):
            try:
                pieces.append(await channel.receiver.receive())
            except anyio.EndOfStream:
                break
            except UnicodeError as exc:
                error = exc
                tg.cancel_scope.cancel()  # the sender may be stuck behind unread bytes
                break
    return pieces, error


async def _encoded(
    subject: Subject[TextSink], pieces: list[str]
) -> tuple[bytes, BaseException | None]:
    """Send ``pieces`` as text, end the stream, and collect the raw bytes: (the bytes, the
    UnicodeError a send raised or None)."""
    raw: list[bytes] = []
    error: BaseException | None = None
    async with named(subject) as sink:

        async def send() -> None:
            nonlocal error
            try:
                for piece in pieces:
                    await sink.sender.send(piece)
            except UnicodeError as exc:
                error = exc
            await sink.finish()

        async with anyio.create_task_group() as tg:
            tg.start_soon(send)
            raw = await receive_chunks(sink.receiver)
    return b"".join(raw), error


def _property(strategy: st.SearchStrategy[Any], body: Callable[[Any], None]) -> Callable[[], None]:
    @given(strategy)
    def prop(drawn: Any) -> None:
        body(drawn)

    return prop


@check("TEXT-DECODE")
def text_decode(ctx: Context) -> None:
    _require_receivers(ctx)

    def body(case: EncodedText) -> None:
        for subject in text_channels(ctx.target, case.encoding, "strict"):
            pieces, error = ctx.run(_decoded, subject, case.chunks)
            assert error is None, (
                f"{subject.name} ({case.encoding}): decoding {case.text!r} sent in chunks "
                f"{case.chunks!r} raised {error!r}"
            )
            assert "".join(pieces) == case.text, (
                f"{subject.name} ({case.encoding}): {case.text!r} sent in chunks "
                f"{case.chunks!r} was received as {pieces!r}"
            )

    _property(encoded_texts(), body)()


@check("TEXT-NO-EMPTY")
def text_no_empty(ctx: Context) -> None:
    _require_receivers(ctx)

    def body(case: EncodedText) -> None:
        for subject in text_channels(ctx.target, case.encoding, "strict"):
            pieces, _ = ctx.run(_decoded, subject, case.chunks)
            assert all(pieces), (
                f"{subject.name} ({case.encoding}): receive() returned '' before the end: "
                f"{pieces!r} for chunks {case.chunks!r}"
            )

    _property(encoded_texts(), body)()


def _expected_encoding(text: str, encoding: str) -> tuple[bytes, ...]:
    """The acceptable bytes for ``text``: its encoding; for empty text a codec with a
    byte-order mark may also have written nothing at all."""
    encoded = text.encode(encoding)
    return (encoded, b"") if not text else (encoded,)


@check("TEXT-ENCODE")
def text_encode(ctx: Context) -> None:
    _require_senders(ctx)

    def body(case: TextPieces) -> None:
        for subject in text_sinks(ctx.target, case.encoding, "strict"):
            raw, error = ctx.run(_encoded, subject, case.pieces)
            text = "".join(case.pieces)
            assert error is None, f"{subject.name} ({case.encoding}): send() raised {error!r}"
            assert raw in _expected_encoding(text, case.encoding), (
                f"{subject.name} ({case.encoding}): sending {case.pieces!r} produced {raw!r}, "
                f"not the encoding of {text!r}, {text.encode(case.encoding)!r}"
            )

    _property(text_pieces(ENCODINGS), body)()


def _or_none(model: Callable[[], T]) -> T | None:
    """What the codec makes of the whole input, or None where it raises UnicodeError."""
    try:
        return model()
    except UnicodeError:
        return None


def _decode_errors(ctx: Context, case: Undecodable) -> None:
    for subject in text_channels(ctx.target, case.encoding, case.errors):
        where = f"{subject.name} ({case.encoding}, errors={case.errors!r})"
        pieces, error = ctx.run(_decoded, subject, case.chunks)
        # The codec applied to the whole input is the model; a policy that cannot handle
        # these bytes ('surrogateescape' in UTF-16, say) raises there too.
        expected = _or_none(lambda: case.data.decode(case.encoding, case.errors))
        if expected is None:
            assert error is not None, (
                f"{where}: undecodable bytes {case.data!r} (chunks {case.chunks!r}) were "
                f"received as {pieces!r} instead of raising UnicodeDecodeError"
            )
            continue
        assert error is None, f"{where}: decoding {case.data!r} raised {error!r}"
        assert "".join(pieces) == expected, (
            f"{where}: {case.data!r} sent in chunks {case.chunks!r} was received as {pieces!r}, "
            f"not {expected!r}"
        )


def _encode_errors(ctx: Context, case: Unencodable) -> None:
    for subject in text_sinks(ctx.target, case.encoding, case.errors):
        where = f"{subject.name} ({case.encoding}, errors={case.errors!r})"
        raw, error = ctx.run(_encoded, subject, case.pieces)
        expected = _or_none(lambda: "".join(case.pieces).encode(case.encoding, case.errors))
        if expected is None:
            assert error is not None, (
                f"{where}: sending unencodable {case.pieces!r} produced {raw!r} instead of "
                "raising UnicodeEncodeError"
            )
            continue
        assert error is None, f"{where}: sending {case.pieces!r} raised {error!r}"
        assert raw == expected, (
            f"{where}: sending {case.pieces!r} produced {raw!r}, not {expected!r}"
        )


@check("TEXT-ERRORS")
def text_errors(ctx: Context) -> None:
    receivers = bool(text_channels(ctx.target, "utf-8", "strict"))
    senders = bool(text_sinks(ctx.target, "utf-8", "strict"))
    if not (receivers or senders):
        ctx.not_provided("a text stream")
    cases: list[st.SearchStrategy[Any]] = []
    if receivers:
        cases.append(undecodable_texts((*DECODE_ERROR_POLICIES, "strict")))
    if senders:
        cases.append(unencodable_texts((*ENCODE_ERROR_POLICIES, "strict")))

    def body(case: Undecodable | Unencodable) -> None:
        if isinstance(case, Undecodable):
            _decode_errors(ctx, case)
        else:
            _encode_errors(ctx, case)

    _property(st.one_of(cases), body)()


@check("TEXT-TRUNCATED")
def text_truncated(ctx: Context) -> None:
    _require_receivers(ctx)

    def body(drawn: tuple[Truncated, str]) -> None:
        case, errors = drawn
        for subject in text_channels(ctx.target, case.encoding, errors):
            where = f"{subject.name} ({case.encoding}, errors={errors!r})"
            pieces, error = ctx.run(_decoded, subject, case.chunks)
            text = "".join(pieces)
            if errors == "strict":
                assert error is not None, (
                    f"{where}: {case.data!r}, whose last character is cut short, was received "
                    f"as {pieces!r} then the end, without UnicodeDecodeError"
                )
                continue
            expected = case.data.decode(case.encoding, errors)
            assert text == expected, (
                f"{where}: {case.data!r} (chunks {case.chunks!r}), whose last character is cut "
                f"short, was received as {text!r}, not {expected!r}"
            )

    _property(st.tuples(truncated_texts(), st.sampled_from(("strict", "replace"))), body)()


@check("TEXT-BOM-ONCE")
def text_bom_once(ctx: Context) -> None:
    _require_senders(ctx)

    def body(case: TextPieces) -> None:
        bom = "".encode(case.encoding)
        for subject in text_sinks(ctx.target, case.encoding, "strict"):
            raw, error = ctx.run(_encoded, subject, case.pieces)
            text = "".join(case.pieces)
            where = f"{subject.name} ({case.encoding})"
            assert error is None, f"{where}: send() raised {error!r}"
            assert raw.decode(case.encoding) == text, (
                f"{where}: sending {case.pieces!r} produced {raw!r}, which decodes to "
                f"{raw.decode(case.encoding)!r}: a byte-order mark was written more than once"
            )
            assert not text or raw.startswith(bom), (
                f"{where}: sending {case.pieces!r} produced {raw!r}, without the byte-order "
                f"mark {bom!r} first"
            )

    _property(text_pieces(BOM_ENCODINGS), body)()


class _Probe(anyio.TypedAttributeSet):
    """An attribute of the checks' probe transport."""

    colour: str = anyio.typed_attribute()


@check("TEXT-ATTRIBUTES")
async def text_attributes(ctx: Context) -> None:
    wrappers = [
        (name, factory)
        for name, factory in (
            ("text receive stream", ctx.target.text_receive_stream),
            ("text send stream", ctx.target.text_send_stream),
            ("text stream", ctx.target.text_stream),
        )
        if factory is not None
    ]
    if not wrappers:
        ctx.not_provided("a text stream")
    for name, factory in wrappers:
        stream = factory(ProbeStream(attributes={_Probe.colour: "teal"}))
        try:
            value = stream.extra(_Probe.colour, None)
            assert value == "teal", (
                f"{name}: extra() of the transport's attribute gave {value!r}, not 'teal'"
            )
        finally:
            await close_quietly(stream)
