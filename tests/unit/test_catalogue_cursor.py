"""The catalogue's cursor: what a page hands out decodes to the same position; anything else is
refused (a 422 naming ``cursor``), never a crash or a silently different page."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gongkai_publishing.queries import BadCursor, decode_cursor, encode_cursor

numbers = st.text(min_size=1, max_size=200).filter(lambda s: "\x00" not in s)


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2999, 12, 31)), numbers)
def test_a_cursor_decodes_to_the_position_it_was_made_from(day: date, number: str) -> None:
    cursor = encode_cursor(day, number)
    assert decode_cursor(cursor) == (day, number)
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@given(st.text(max_size=100))
def test_any_other_text_is_refused_or_is_a_position(text: str) -> None:
    try:
        day, number = decode_cursor(text)
    except BadCursor:
        return
    assert isinstance(day, date) and isinstance(number, str) and number


@pytest.mark.parametrize("bad", ["", "!!!", "eyJhIjoxfQ", "WzEsMl0", "WyIyMDI1LTAxLTAxIiwiIl0"])
def test_junk_is_refused(bad: str) -> None:
    with pytest.raises(BadCursor):
        decode_cursor(bad)
