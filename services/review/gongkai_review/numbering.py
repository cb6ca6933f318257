"""Document numbers (发文字号) of letters: ``X政信公开〔2026〕12号``.

Each letter type has a format in the settings (``GONGKAI_REVIEW_LETTER_NUMBERS``, a JSON object:
type → format with ``{year}`` and ``{number}``); a type without one uses ``default``, and the
types sharing it share its counter, so a number is never written on two letters. Numbers run per
counter and calendar year (Beijing date of the letter) from 1.

The counter lives in the log (docs/decisions.md, "Document numbers"): aggregate
``letter-numbers-<counter>-<year>``, one ``letter-number-assigned`` event per number, appended
only if the counter's last event is still the one read (JetStream's expected-last-subject-sequence,
as every append): two replicas deciding letters at once cannot take the same number, the loser
reads again and takes the next. The number is taken when the letter's event is decided (before it
is appended, so the letter carries it); if that event is then refused or loses its own race for
good, the number stays taken and unused (a gap the log explains), never reused.
"""

from __future__ import annotations

from collections.abc import Mapping
from string import Formatter

from gongkai_shared.envelope import Actor
from gongkai_shared.events import LetterNumberAssigned, make_event
from gongkai_shared.eventstore import ConcurrencyConflict, EventStore

DEFAULT = "default"
FORMATS: dict[str, str] = {
    "answer": "X政信公开〔{year}〕{number}号",
    "clarification": "X政信补正〔{year}〕{number}号",
    "extension": "X政信延期〔{year}〕{number}号",
    "consultation": "X政信征询〔{year}〕{number}号",
    "override_notice": "X政信告知〔{year}〕{number}号",
    DEFAULT: "X政信函〔{year}〕{number}号",
}


class NumberingBusy(Exception):
    """The counter kept moving under us (many letters of one type at once): try again."""


def check_formats(formats: Mapping[str, str]) -> dict[str, str]:
    """The formats, with the defaults for types not given; ValueError naming the bad one: each
    must use ``{year}`` and ``{number}`` and nothing else, and no two may write the same text."""
    merged = {**FORMATS, **formats}
    seen: dict[str, str] = {}
    for kind, fmt in merged.items():
        fields = {f for _, f, _, _ in Formatter().parse(fmt) if f is not None}
        if fields != {"year", "number"}:
            raise ValueError(
                f"letter number format for {kind!r} must use {{year}} and {{number}} only: {fmt!r}"
            )
        try:
            sample = fmt.format(year=2026, number=7)
        except (ValueError, IndexError) as e:
            raise ValueError(f"letter number format for {kind!r} is not a valid format: {e}") from None
        if sample in seen:
            raise ValueError(f"letter types {seen[sample]!r} and {kind!r} have the same number format")
        seen[sample] = kind
    return merged


def counter_of(kind: str, formats: Mapping[str, str]) -> str:
    return kind if kind in formats else DEFAULT


def format_number(kind: str, year: int, number: int, formats: Mapping[str, str]) -> str:
    return formats[counter_of(kind, formats)].format(year=year, number=number)


def aggregate(counter: str, year: int) -> str:
    return f"letter-numbers-{counter}-{year}"


async def take(
    store: EventStore,
    service: str,
    *,
    kind: str,
    year: int,
    case_id: str,
    actor: Actor,
    formats: Mapping[str, str],
    tries: int = 20,
) -> str:
    """The next number of ``kind``'s counter for ``year``, taken in the log; its text."""
    counter = counter_of(kind, formats)
    agg = aggregate(counter, year)
    for _ in range(tries):
        last = await store.last_event(agg)
        number = 1 if last is None else int(last.envelope.data["number"]) + 1
        body = LetterNumberAssigned(counter=counter, year=year, number=number, kind=kind, case_id=case_id)
        try:
            await store.append(
                make_event(body, aggregate_id=agg, actor=actor), service, last.seq if last else 0
            )
        except ConcurrencyConflict:
            continue
        return format_number(kind, year, number, formats)
    raise NumberingBusy(f"the {counter} letter counter for {year} is busy; try again")
