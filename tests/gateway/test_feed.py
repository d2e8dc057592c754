"""The numbers feed's cursor: a position in the alert-state topics, given out and read back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.feed import decode_cursor, encode_cursor
from hotline.errors import InvalidQuery

LANES = {"urgent": 8, "bulk": 8}


@given(
    st.lists(st.integers(0, 2**53), min_size=8, max_size=8),
    st.lists(st.integers(0, 2**53), min_size=8, max_size=8),
)
def test_a_cursor_reads_back_as_given(urgent: list[int], bulk: list[int]) -> None:
    text = encode_cursor({"urgent": urgent, "bulk": bulk})
    assert text.isascii() and "=" not in text and "/" not in text and "+" not in text
    assert decode_cursor(text, LANES) == {"urgent": urgent, "bulk": bulk}


def test_no_cursor_is_the_start() -> None:
    assert decode_cursor(None, LANES) == {"urgent": [0] * 8, "bulk": [0] * 8}
    assert decode_cursor("", LANES) == {"urgent": [0] * 8, "bulk": [0] * 8}


@pytest.mark.parametrize(
    "text",
    [
        "nonsense",
        "c1.",
        "c1.!!!",
        encode_cursor({"urgent": [0] * 4, "bulk": [0] * 8}),  # other partition counts
        encode_cursor({"urgent": [-1] * 8, "bulk": [0] * 8}),
        "c1." + "eyJ1cmdlbnQiOiJ4In0",  # {"urgent":"x"}
    ],
)
def test_a_cursor_the_feed_did_not_give_is_refused_naming_after(text: str) -> None:
    with pytest.raises(InvalidQuery) as exc:
        decode_cursor(text, LANES)
    assert exc.value.extra["errors"][0]["field"] == "after"
