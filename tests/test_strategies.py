"""The conformance strategies draw what they claim: splits that join back, chunkings that
reach the edge cases, receive_until cases whose model answer is the one asked for, and text
that each encoding can carry (or, for the error strategies, cannot)."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import find, given
from hypothesis import strategies as st

from streamspec.conformance.strategies import (
    BOM_ENCODINGS,
    DECODE_ERROR_POLICIES,
    ENCODE_ERROR_POLICIES,
    ENCODINGS,
    Chunked,
    EncodedText,
    TextPieces,
    Truncated,
    Undecodable,
    Unencodable,
    UntilCase,
    chunked,
    chunked_payloads,
    encoded_texts,
    exact_sizes,
    receive_sizes,
    representable_chars,
    split_at,
    text_pieces,
    truncated_texts,
    undecodable_texts,
    unencodable_texts,
    until_cases,
)


@given(st.binary(max_size=20), st.lists(st.integers(0, 20), max_size=6))
def test_split_at_joins_back_into_the_data(data: bytes, cuts: list[int]) -> None:
    cuts = [min(cut, len(data)) for cut in cuts]
    pieces = split_at(data, cuts)
    assert b"".join(pieces) == data
    assert len(pieces) == len(cuts) + 1


def test_split_at_cuts_where_told_in_any_order() -> None:
    assert split_at("abcdef", [4, 1, 1]) == ["a", "", "bcd", "ef"]
    assert split_at(b"", []) == [b""]


@given(chunked_payloads())
def test_chunked_payloads_join_back(case: Chunked) -> None:
    assert b"".join(case.chunks) == case.data


@given(st.binary(min_size=1, max_size=16).flatmap(lambda d: chunked(d, allow_empty=False)))
def test_chunked_without_empty_pieces_has_none(case: Chunked) -> None:
    assert b"".join(case.chunks) == case.data
    assert all(case.chunks)


@pytest.mark.parametrize(
    ("description", "edge"),
    [
        ("one chunk", lambda c: c.chunks == [c.data]),
        ("a byte per chunk", lambda c: len(c.chunks) == len(c.data)
         and all(len(p) == 1 for p in c.chunks)),
        ("an empty chunk", lambda c: b"" in c.chunks),
    ],
)  # fmt: skip
def test_chunkings_reach_the_edge_cases(description: str, edge: object) -> None:
    found = find(chunked(b"abcd"), edge)  # type: ignore[arg-type]
    assert b"".join(found.chunks) == b"abcd", description


@given(receive_sizes())
def test_receive_sizes_are_positive(sizes: list[int]) -> None:
    assert sizes
    assert all(size >= 1 for size in sizes)


@given(st.integers(0, 30).flatmap(lambda n: st.tuples(st.just(n), exact_sizes(n))))
def test_exact_sizes_fit_the_data(drawn: tuple[int, list[int]]) -> None:
    total, sizes = drawn
    assert all(size >= 0 for size in sizes)
    assert sum(sizes) <= total


@pytest.mark.parametrize("outcome", ["found", "not-found", "incomplete"])
def test_until_cases_have_the_outcome_asked_for(outcome: str) -> None:
    @given(until_cases(outcome))
    def check(case: UntilCase) -> None:
        assert b"".join(case.chunks) == case.data
        window = case.data[: case.max_bytes]
        if outcome == "found":
            assert case.delimiter in window
            assert case.expected == window[: window.find(case.delimiter)]
        elif outcome == "not-found":
            assert case.delimiter not in window
            assert len(case.data) >= case.max_bytes
        else:
            assert case.delimiter not in case.data
            assert len(case.data) < case.max_bytes
        assert case.outcome == outcome

    check()


def test_until_cases_reach_the_limit_exactly() -> None:
    found = find(until_cases("found"), lambda c: c.data.find(c.delimiter) + len(c.delimiter)
                 == c.max_bytes)  # fmt: skip
    assert found.expected is not None


@pytest.mark.parametrize("encoding", [*ENCODINGS, *BOM_ENCODINGS])
def test_representable_chars_round_trip_ascii_first(encoding: str) -> None:
    chars = representable_chars(encoding)
    assert chars[:128] == tuple(chr(i) for i in range(128))
    assert all(c.encode(encoding).decode(encoding) == c for c in chars)
    assert any(ord(c) > 127 for c in chars)


@given(encoded_texts())
def test_encoded_texts_decode_to_the_text(case: EncodedText) -> None:
    assert case.encoding in ENCODINGS
    assert b"".join(case.chunks).decode(case.encoding) == case.text


def test_encoded_texts_split_a_character() -> None:
    def splits_a_character(case: EncodedText) -> bool:
        decoder = codecs.getincrementaldecoder(case.encoding)()
        return any(decoder.decode(chunk) == "" for chunk in case.chunks if chunk)

    found = find(encoded_texts(("utf-8",)), splits_a_character)
    assert len(found.text.encode("utf-8")) > len(found.text)


@given(text_pieces(BOM_ENCODINGS))
def test_text_pieces_are_representable(case: TextPieces) -> None:
    text = "".join(case.pieces)
    assert text.encode(case.encoding).decode(case.encoding) == text


@given(truncated_texts())
def test_truncated_texts_end_mid_character(case: Truncated) -> None:
    with pytest.raises(UnicodeDecodeError):
        case.data.decode(case.encoding)
    assert case.data.decode(case.encoding, "ignore") == case.complete
    assert b"".join(case.chunks) == case.data


@given(undecodable_texts(DECODE_ERROR_POLICIES))
def test_undecodable_texts_do_not_decode(case: Undecodable) -> None:
    assert case.errors in DECODE_ERROR_POLICIES
    assert b"".join(case.chunks) == case.data
    with pytest.raises(UnicodeDecodeError):
        case.data.decode(case.encoding)


@given(unencodable_texts(ENCODE_ERROR_POLICIES))
def test_unencodable_texts_do_not_encode(case: Unencodable) -> None:
    assert case.errors in ENCODE_ERROR_POLICIES
    with pytest.raises(UnicodeEncodeError):
        "".join(case.pieces).encode(case.encoding)
