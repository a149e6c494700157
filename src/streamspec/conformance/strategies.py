"""Hypothesis strategies for the byte-level checks: what senders send and how receivers ask.

Every strategy here names what it draws and shrinks towards the smallest counterexample: data
towards few, small bytes; a chunking towards a single chunk; receive sizes towards small
numbers; an encoding towards UTF-8; a ``receive_until`` limit towards the exact boundary where
the answer changes. A failure report therefore shows the simplest split that breaks a stream.

The records drawn (:class:`Chunked`, :class:`UntilCase`, :class:`EncodedText`...) carry the
pure model's answer next to the input, so a check only has to compare.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from typing import TYPE_CHECKING, AnyStr

from hypothesis import assume
from hypothesis import strategies as st

if TYPE_CHECKING:
    from .target import ItemKind

__all__ = [
    "BOM_ENCODINGS",
    "DECODE_ERROR_POLICIES",
    "ENCODE_ERROR_POLICIES",
    "ENCODINGS",
    "MULTIBYTE_ENCODINGS",
    "Chunked",
    "EncodedText",
    "TextPieces",
    "Truncated",
    "Undecodable",
    "Unencodable",
    "UntilCase",
    "chunked",
    "chunked_payloads",
    "encoded_texts",
    "exact_sizes",
    "item_of",
    "items",
    "payloads",
    "receive_sizes",
    "representable_chars",
    "split_at",
    "text_pieces",
    "truncated_texts",
    "undecodable_texts",
    "unencodable_texts",
    "until_cases",
]

#: The encodings the text rules cover. [TEXT-DECODE]
ENCODINGS = ("utf-8", "utf-16", "utf-32", "latin-1", "shift_jis")
#: The encodings in which a character can be cut short (latin-1 has one byte per character).
MULTIBYTE_ENCODINGS = ("utf-8", "utf-16", "utf-32", "shift_jis")
#: Encodings that start the encoded stream with a byte-order mark. [TEXT-BOM-ONCE]
BOM_ENCODINGS = ("utf-16", "utf-32", "utf-8-sig")
#: Non-strict decoding policies: each turns bad input into text, so the result is comparable.
DECODE_ERROR_POLICIES = ("replace", "ignore", "backslashreplace", "surrogateescape")
#: Non-strict encoding policies.
ENCODE_ERROR_POLICIES = ("replace", "ignore", "backslashreplace", "xmlcharrefreplace")

# A few byte values, so that delimiters recur and overlap in the data (b"aa" inside b"aaa").
_FEW_BYTES = b"ab\r\n"


# -- the items of object streams ----------------------------------------------------------------


def item_of(kind: ItemKind, value: int | str) -> object:
    """The item an object rule sends for ``value`` over a stream that carries ``kind``: the
    value itself where any (or any picklable) object goes, its text encoded where only bytes
    do. Distinct values give distinct items, and equal values equal items."""
    if kind == "bytes":
        return str(value).encode()
    return value


def items(kind: ItemKind) -> st.SearchStrategy[object]:
    """Draw one item a stream carrying ``kind`` accepts; shrinks towards a small one.

    Bytes for ``"bytes"``; for ``"picklable"`` and ``"any"``, nested plain data (numbers,
    text, bytes, tuples, lists, dicts), which every such stream carries and compares by value.
    """
    if kind == "bytes":
        return st.binary(min_size=1, max_size=2048)
    scalars = (
        st.none() | st.booleans() | st.integers() | st.text(max_size=16) | st.binary(max_size=64)
    )
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.tuples(inner, inner)
            | st.dictionaries(st.text(max_size=4), inner, max_size=3)
        ),
        max_leaves=8,
    )


# -- bytes and where they are split ------------------------------------------------------------


def payloads(max_size: int = 64) -> st.SearchStrategy[bytes]:
    """Draw the bytes a sender sends; shrinks towards ``b""``."""
    return st.binary(max_size=max_size)


def split_at(data: AnyStr, cuts: list[int]) -> list[AnyStr]:
    """Split ``data`` at the offsets ``cuts`` (any order; a repeated cut gives an empty piece)."""
    return [data[start:end] for start, end in pairwise([0, *sorted(cuts), len(data)])]


@dataclass(frozen=True)
class Chunked:
    """Some data and the pieces a sender splits it into (``b"".join(chunks) == data``)."""

    data: bytes
    chunks: list[bytes]


@st.composite
def chunked(draw: st.DrawFn, data: bytes, *, allow_empty: bool = True) -> Chunked:
    """Draw a way to split the given ``data`` into sends; shrinks towards one chunk.

    With ``allow_empty``, a piece may be empty: sending ``b""`` is legal and must change
    nothing.
    """
    lowest = 0 if allow_empty else 1
    highest = len(data) if allow_empty else len(data) - 1
    if highest < lowest:
        return Chunked(data, [data])
    cuts = draw(st.lists(st.integers(lowest, highest), max_size=8, unique=not allow_empty))
    return Chunked(data, split_at(data, cuts))


@st.composite
def chunked_payloads(draw: st.DrawFn, max_size: int = 64) -> Chunked:
    """Draw a payload and the chunks a sender sends it in."""
    return draw(chunked(draw(payloads(max_size))))


def receive_sizes() -> st.SearchStrategy[list[int]]:
    """Draw the ``max_bytes`` a receiver passes to successive ``receive()`` calls (cycled).

    Mostly small, so that chunks get cut, sometimes AnyIO's default 65536; shrinks to ``[1]``.
    """
    size = st.integers(min_value=1, max_value=20) | st.just(65536)
    return st.lists(size, min_size=1, max_size=6)


@st.composite
def exact_sizes(draw: st.DrawFn, total: int) -> list[int]:
    """Draw the ``nbytes`` of successive ``receive_exactly()`` calls, adding up to at most
    ``total``; zero is included (it must return ``b""``). Shrinks to no call at all."""
    cuts = sorted(draw(st.lists(st.integers(0, total), max_size=6)))
    return [end - start for start, end in pairwise([0, *cuts])]


# -- receive_until -----------------------------------------------------------------------------


@dataclass(frozen=True)
class UntilCase:
    """A ``receive_until(delimiter, max_bytes)`` call over ``data``, with the model's answer.

    The model is decision 8 in docs/design.rst, computed on the joined bytes: the delimiter
    counts when the whole of its first occurrence ends within the first ``max_bytes`` bytes.
    """

    data: bytes
    chunks: list[bytes]
    delimiter: bytes
    max_bytes: int

    @property
    def expected(self) -> bytes | None:
        """The bytes before the delimiter, or None when it is not found within the limit."""
        index = self.data[: self.max_bytes].find(self.delimiter)
        return None if index < 0 else self.data[:index]

    @property
    def outcome(self) -> str:
        """``"found"``, ``"not-found"`` (DelimiterNotFound) or ``"incomplete"`` (the stream
        ends first: IncompleteRead)."""
        if self.expected is not None:
            return "found"
        return "not-found" if len(self.data) >= self.max_bytes else "incomplete"


def _few_bytes(min_size: int = 0, max_size: int = 12) -> st.SearchStrategy[bytes]:
    return st.lists(st.sampled_from(_FEW_BYTES), min_size=min_size, max_size=max_size).map(bytes)


@st.composite
def until_cases(draw: st.DrawFn, outcome: str) -> UntilCase:
    """Draw data, its chunking, a delimiter and a ``max_bytes`` whose model answer is
    ``outcome`` (``"found"``, ``"not-found"`` or ``"incomplete"``).

    The limit shrinks towards the boundary where the answer would change: for "found", the
    delimiter ends exactly at ``max_bytes``; for "not-found", one byte past it.
    """
    delimiter = draw(_few_bytes(min_size=1, max_size=3))
    if outcome == "incomplete":
        # No byte of the body can start a delimiter, so only the tail (a proper prefix of
        # the delimiter, the nastiest way to end) could, and it is too short.
        body = draw(st.lists(st.sampled_from(_FEW_BYTES.replace(delimiter[:1], b"")), max_size=12))
        data = bytes(body) + delimiter[: draw(st.integers(0, len(delimiter) - 1))]
        max_bytes = len(data) + draw(st.integers(1, 8))
    else:
        before, after = draw(_few_bytes()), draw(_few_bytes())
        data = before + delimiter + after
        end = data.find(delimiter) + len(delimiter)
        if outcome == "found":
            max_bytes = end + draw(st.integers(0, 4))
        else:
            assume(end > 1)
            max_bytes = end - 1 - draw(st.integers(0, min(4, end - 2)))
    case = UntilCase(data, draw(chunked(data)).chunks, delimiter, max_bytes)
    assert case.outcome == outcome, case  # the construction above guarantees it
    return case


# -- text --------------------------------------------------------------------------------------


@cache
def representable_chars(encoding: str) -> tuple[str, ...]:
    """Characters that round-trip through ``encoding``, ASCII first (so text shrinks to it).

    For the Unicode encodings this is a sample spanning every plane, not all of Unicode.
    """
    if encoding == "latin-1":
        candidates = [chr(i) for i in range(256)]
    elif encoding == "shift_jis":
        candidates = [chr(i) for i in range(128)]
        candidates += [bytes([i]).decode(encoding) for i in range(0xA1, 0xE0)]
        for lead in [*range(0x81, 0xA0), *range(0xE0, 0xF0)]:
            for trail in [*range(0x40, 0x7F), *range(0x80, 0xFD)]:
                char = bytes([lead, trail]).decode(encoding, "replace")
                if len(char) == 1 and char != "\ufffd":
                    candidates.append(char)
    else:
        # Every ASCII character, then a sample of each wider range of code points.
        spans = [range(128), range(128, 0x800, 7), range(0x800, 0x10000, 97),
                 range(0x10000, 0x110000, 997)]  # fmt: skip
        candidates = [chr(i) for span in spans for i in span if not 0xD800 <= i <= 0xDFFF]
    return tuple(c for c in dict.fromkeys(candidates) if _round_trips(c, encoding))


def _round_trips(char: str, encoding: str) -> bool:
    try:
        return char.encode(encoding).decode(encoding) == char
    except UnicodeError:
        return False


# Cached: Hypothesis turns a sampled alphabet into character ranges when it validates the
# strategy, which costs milliseconds for thousands of characters, so each is built once.
@cache
def _texts(encoding: str, min_size: int = 0, max_size: int = 12) -> st.SearchStrategy[str]:
    return st.text(st.sampled_from(representable_chars(encoding)), min_size=min_size,
                   max_size=max_size)  # fmt: skip


@dataclass(frozen=True)
class EncodedText:
    """A text, an encoding that can represent it, and how its encoded bytes are chunked."""

    encoding: str
    text: str
    chunks: list[bytes]


@st.composite
def encoded_texts(draw: st.DrawFn, encodings: tuple[str, ...] = ENCODINGS) -> EncodedText:
    """Draw an encoding, a text it can represent, and a chunking of the encoded bytes (the
    byte-order mark included, where the codec writes one). Shrinks to UTF-8, short text."""
    encoding = draw(st.sampled_from(encodings))
    text = draw(_texts(encoding))
    return EncodedText(encoding, text, draw(chunked(text.encode(encoding))).chunks)


@dataclass(frozen=True)
class TextPieces:
    """An encoding and the strings of successive ``send()`` calls."""

    encoding: str
    pieces: list[str]


@st.composite
def text_pieces(draw: st.DrawFn, encodings: tuple[str, ...] = ENCODINGS) -> TextPieces:
    """Draw an encoding and the strings a sender sends one by one (empty strings included);
    shrinks to UTF-8 and a single short string."""
    encoding = draw(st.sampled_from(encodings))
    text = draw(_texts(encoding))
    cuts = draw(st.lists(st.integers(0, len(text)), max_size=5))
    return TextPieces(encoding, split_at(text, cuts))


@dataclass(frozen=True)
class Truncated:
    """Encoded text whose last character is cut short, and how the bytes are chunked."""

    encoding: str
    #: The characters that arrive whole.
    complete: str
    data: bytes
    chunks: list[bytes]


@st.composite
def truncated_texts(draw: st.DrawFn) -> Truncated:
    """Draw encoded text whose last character lost at least one of its bytes, and a chunking
    of what is left."""
    encoding = draw(st.sampled_from(MULTIBYTE_ENCODINGS))
    complete = draw(_texts(encoding, max_size=6))
    last = draw(_wide_chars(encoding))
    whole = (complete + last).encode(encoding)
    data = whole[: len(whole) - draw(st.integers(1, len(_bare(last, encoding)) - 1))]
    return Truncated(encoding, complete, data, draw(chunked(data)).chunks)


@cache
def _wide_chars(encoding: str) -> st.SearchStrategy[str]:
    """Draw a representable character that takes more than one byte in ``encoding``."""
    return st.sampled_from(
        [c for c in representable_chars(encoding) if len(_bare(c, encoding)) > 1]
    )


def _bare(text: str, encoding: str) -> bytes:
    """The bytes of ``text`` in ``encoding`` as they appear mid-stream: no byte-order mark."""
    encoder = codecs.getincrementalencoder(encoding)()
    encoder.encode("")  # a codec with a byte-order mark writes it here
    return encoder.encode(text)


#: Byte sequences that no decoder of the encoding accepts, whatever surrounds them.
_GARBAGE = {
    "utf-8": (b"\xff", b"\xc3", b"\xed\xa0\x80"),
    "utf-16": (b"\x00\xdc",),
    "utf-32": (b"\x00\xd8\x00\x00", b"\xff\xff\xff\xff"),
    "shift_jis": (b"\x80", b"\xa0", b"\xfd"),
}


@dataclass(frozen=True)
class Undecodable:
    """Encoded text with undecodable bytes spliced in, its chunking, and an errors policy."""

    encoding: str
    errors: str
    data: bytes
    chunks: list[bytes]


@st.composite
def undecodable_texts(draw: st.DrawFn, errors: tuple[str, ...]) -> Undecodable:
    """Draw encoded characters with at least one undecodable sequence spliced in between two
    of them (after the byte-order mark, where the codec has one), a chunking of the bytes,
    and one of the ``errors`` policies."""
    encoding = draw(st.sampled_from(tuple(_GARBAGE)))
    policy = draw(st.sampled_from(errors))
    chars = draw(_texts(encoding, max_size=8))
    parts = [_bare(char, encoding) for char in chars]
    for _ in range(draw(st.integers(1, 3))):
        garbage = draw(st.sampled_from(_GARBAGE[encoding]))
        parts.insert(draw(st.integers(0, len(parts))), garbage)
    # A codec with a byte-order mark starts with it: an incremental UTF-16 or UTF-32 decoder
    # refuses a stream without one, whatever the errors policy.
    data = _bom(encoding) + b"".join(parts)
    return Undecodable(encoding, policy, data, draw(chunked(data)).chunks)


def _bom(encoding: str) -> bytes:
    """What ``encoding`` writes before any text: a byte-order mark, or nothing."""
    return codecs.getincrementalencoder(encoding)().encode("")


#: Characters the encoding cannot represent.
_UNENCODABLE = {
    "latin-1": ("\u20ac", "\u3042", "\U0001f600"),
    "shift_jis": ("\u20ac", "\U0001f600", "\u00e9"),
    "utf-8": ("\ud800",),
}


@dataclass(frozen=True)
class Unencodable:
    """Strings to send, at least one of them holding a character the encoding cannot
    represent, and an errors policy."""

    encoding: str
    errors: str
    pieces: list[str]


@st.composite
def unencodable_texts(draw: st.DrawFn, errors: tuple[str, ...]) -> Unencodable:
    """Draw an encoding, one of the ``errors`` policies and strings to send, with at least one
    character the encoding cannot represent."""
    encoding = draw(st.sampled_from(tuple(_UNENCODABLE)))
    policy = draw(st.sampled_from(errors))
    pieces = draw(st.lists(_texts(encoding, max_size=4), min_size=1, max_size=4))
    for _ in range(draw(st.integers(1, 2))):
        index = draw(st.integers(0, len(pieces) - 1))
        at = draw(st.integers(0, len(pieces[index])))
        bad = draw(st.sampled_from(_UNENCODABLE[encoding]))
        pieces[index] = pieces[index][:at] + bad + pieces[index][at:]
    return Unencodable(encoding, policy, pieces)
