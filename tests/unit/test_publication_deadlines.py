"""Art. 26 (条例 第二十六条): information to be published proactively is published within 20
working days of being formed or changed. The clock keeps one deadline per 主动公开 version of a
document, met by its publication, closed by a repeal or a change of attribute."""

from __future__ import annotations

from datetime import date
from itertools import count
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from gongkai_notify.domain.deadlines import CLOSED, MET, RUNNING, ClockEvent, clock_data, folds
from gongkai_notify.domain.publication import KIND, compute, compute_document
from gongkai_shared.calendar import WorkingCalendar
from gongkai_shared.profiles import NATIONAL_2019

CAL = WorkingCalendar()
_seq = count(1)


def ev(name: str, data: dict[str, Any], on: date = date(2026, 3, 2)) -> ClockEvent:
    """An event as the projection keeps it (clock_data of the stored body)."""
    assert folds(name, data)
    n = next(_seq)
    return ClockEvent(n, f"e{n}", name, on, clock_data(name, data))


def registered(formed_on: date, attribute: str = "proactive") -> ClockEvent:
    metadata = {"title": "关于2026年义务教育招生工作的通知", "formed_on": formed_on.isoformat(),
                "attribute": attribute, "body": "正文" * 1000}  # fmt: skip
    return ev(
        "document-registered", {"document_id": "doc-1", "department": "基础教育处", "metadata": metadata}
    )


def amended_doc(version: int, changed_on: date, attribute: str = "proactive") -> ClockEvent:
    metadata = {"formed_on": "2026-03-02", "attribute": attribute}
    return ev("document-amended", {"document_id": "doc-1", "document_version": version,
                                   "metadata": metadata, "changed_on": changed_on.isoformat()})  # fmt: skip


def published(version: int, name: str = "published") -> ClockEvent:
    return ev(name, {"document_id": "doc-1", "document_version": version, "index_number": "x/2026-00001"})


def deadlines(*events: ClockEvent) -> dict[str, Any]:
    return {d.subject: d for d in compute("doc-1", list(events), NATIONAL_2019, CAL)}


def test_art_26_twenty_working_days_from_forming() -> None:
    """Art. 26: formed Monday 2026-03-02 (not counted) -> due 2026-03-30, the 20th working day."""
    [d] = deadlines(registered(date(2026, 3, 2))).values()
    assert (d.kind, d.status, d.start_on, d.due_on) == (KIND, RUNNING, date(2026, 3, 2), date(2026, 3, 30))
    assert d.case_id == "doc-1" and d.enforced and d.working_days == 20
    assert d.counted_days == 20 and d.explain()["days"][-1]["day"] == "2026-03-30"


def test_art_26_across_spring_festival_and_national_day() -> None:
    """The holidays of the State Council's 2026 schedule are not counted: formed 2026-02-10 ->
    2026-03-16 (春节); formed 2026-09-21 -> 2026-10-26 (国庆, with its 调休 working days)."""
    assert deadlines(registered(date(2026, 2, 10)))["第1版"].due_on == date(2026, 3, 16)
    assert deadlines(registered(date(2026, 9, 21)))["第1版"].due_on == date(2026, 10, 26)


def test_only_proactive_information_has_a_publication_deadline() -> None:
    """依申请公开 and 不予公开 documents are not published proactively: no deadline."""
    assert deadlines(registered(date(2026, 3, 2), "on_request")) == {}
    assert deadlines(registered(date(2026, 3, 2), "withheld")) == {}


def test_publication_meets_the_deadline() -> None:
    reg = registered(date(2026, 3, 2))
    d = deadlines(reg, published(1))["第1版"]
    assert d.status == MET and d.due_on == date(2026, 3, 30)


def test_a_change_starts_its_own_twenty_days_and_does_not_stop_the_first() -> None:
    """Art. 26 "形成或者变更": a change on 2026-04-01 is due 2026-04-30 (清明 2026-04-06 not
    counted); the first version, formed 2026-03-02, was still due 2026-03-30. Publishing the
    amended version (or ``amended`` of a published one) meets both."""
    reg, change = registered(date(2026, 3, 2)), amended_doc(2, date(2026, 4, 1))
    both = deadlines(reg, change)
    assert (both["第1版"].status, both["第1版"].due_on) == (RUNNING, date(2026, 3, 30))
    assert (both["第2版"].status, both["第2版"].due_on) == (RUNNING, date(2026, 4, 30))
    met = deadlines(reg, change, published(2))
    assert {k: d.status for k, d in met.items()} == {"第1版": MET, "第2版": MET}
    after_publication = deadlines(reg, published(1), change, published(2, "amended"))
    assert {k: d.status for k, d in after_publication.items()} == {"第1版": MET, "第2版": MET}
    only_first = deadlines(reg, published(1), change)
    assert (only_first["第1版"].status, only_first["第2版"].status) == (MET, RUNNING)


def test_a_repeal_drops_the_open_deadline_and_a_change_of_attribute_closes_it() -> None:
    reg = registered(date(2026, 3, 2))
    repealed = ev("repealed", {"document_id": "doc-1", "repealed_on": "2026-03-10", "reason": "废止"})
    assert deadlines(reg, repealed)["第1版"].status == CLOSED
    withheld = deadlines(reg, amended_doc(2, date(2026, 3, 5), "withheld"))
    assert {k: d.status for k, d in withheld.items()} == {"第1版": CLOSED}


def test_the_clock_keeps_no_document_text() -> None:
    """Hot path: the projection stores a document's clock events; never its body (200,000 chars)."""
    kept = registered(date(2026, 3, 2)).data
    assert kept == {"document_version": 1, "start_on": "2026-03-02", "attribute": "proactive"}


def test_a_case_is_still_computed_as_a_case() -> None:
    received = ClockEvent(1, "r1", "request-received", date(2026, 2, 10),
                          {"received_on": "2026-02-10", "channel": "email"})  # fmt: skip
    [answer] = [d for d in compute("c1", [received], NATIONAL_2019, CAL) if d.kind == "answer"]
    assert answer.due_on == date(2026, 3, 16)


@given(st.dates(min_value=date(2005, 1, 1), max_value=date(2026, 11, 30)), st.integers(2, 5))
def test_every_version_is_due_twenty_working_days_after_its_start(start: date, versions: int) -> None:
    """Property: each version's due date counts exactly 20 working days after its start; only
    a publication of that version or a later one meets it."""
    events = [registered(start)] + [amended_doc(n, start) for n in range(2, versions + 1)]
    events.append(published(versions - 1))
    out = {d.subject: d for d in compute_document("doc-1", events, NATIONAL_2019, CAL)}
    assert len(out) == versions
    for n in range(1, versions + 1):
        d = out[f"第{n}版"]
        assert CAL.working_days_between(start, d.due_on) == 20
        assert d.status == (MET if n <= versions - 1 else RUNNING)
