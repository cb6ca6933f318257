"""Notify's own notices are framed as the office's letters are (issue 9, GB/T 9704): the receipt
(登记回执) goes to the applicant as an official document — the office's name, the date in
Chinese, the seal's place, the office's contacts and the case number — with the receipt date and
the answer's due date (Art. 33) in Chinese and how to track the application; the staff reminders
carry the office and the date but no seal (internal)."""

from __future__ import annotations

import re
from datetime import date

from gongkai_notify import notices
from gongkai_notify.settings import NotifySettings
from gongkai_shared.letterframe import SEAL

OFFICE = NotifySettings(office_name="某区教育局", office_phone="010-12345678").letterhead()


def receipt(**extra: object) -> notices.Notice:
    values: dict[str, object] = dict(
        name="李四", received_on="2026-03-02", description="2025年本区小学招生计划", answer_days=20,
        due_on=date(2026, 3, 30), provisional=False, case_id="case-9", tracking_url="",
    )  # fmt: skip
    values.update(extra)
    return notices.make("ev-1", "receipt", "applicant", "li@example.cn", "receipt", OFFICE,
                        date(2026, 3, 2), **values)  # fmt: skip


def test_the_receipt_is_an_official_document_with_both_dates_in_chinese() -> None:
    """Art. 33: received 2026-03-02, answered within 20 working days, by 2026-03-30."""
    n = receipt()
    lines = n.body.splitlines()
    assert n.title == "政府信息公开申请登记回执" and lines[0] == "李四："
    assert "本机关于二〇二六年三月二日收到您（单位）提出的政府信息公开申请" in n.body
    assert "第三十三条" in n.body and "20个工作日内予以答复，答复期限至二〇二六年三月三十日。" in n.body
    seal = lines.index(SEAL)
    assert lines[seal + 1 : seal + 3] == ["某区教育局", "二〇二六年三月二日"]
    assert "联系电话：010-12345678" in n.body and "案件编号：case-9" in n.body
    assert not re.search(r"\d{4}-\d{2}-\d{2}", n.body), "dates in Chinese"
    assert "。。" not in n.body and "。，" not in n.body


def test_the_receipt_tells_how_to_track_and_download_with_the_code() -> None:
    n = receipt()
    assert "凭查询码可以在本机关政府信息公开申请查询页面查询办理进度、下载本机关发给您的告知书" in n.body
    with_url = receipt(tracking_url="https://gongkai.example.gov.cn/track")
    assert "凭查询码可以在https://gongkai.example.gov.cn/track查询办理进度" in with_url.body


def test_a_provisional_due_date_says_so() -> None:
    """A due date in a year whose holidays are not yet published is provisional (issue 9)."""
    n = receipt(received_on="2026-12-20", due_on="2027-01-18", provisional=True)
    assert "答复期限至二〇二七年一月十八日（该日期所在年度的法定节假日安排尚未公布，期限为暂定" in n.body


def test_staff_reminders_carry_the_office_and_the_date_but_no_seal() -> None:
    n = notices.make("ev-2", "warning", "staff", "office@x.cn", "warning", OFFICE, date(2026, 3, 25),
                     kind_label="答复期限", subject=None, case_id="case-9", due_on="2026-03-30",
                     working_days_left=3, warn_days=3)  # fmt: skip
    assert "将于二〇二六年三月三十日届满" in n.body and SEAL not in n.body
    assert "某区教育局\n二〇二六年三月二十五日" in n.body and "案件编号：case-9" in n.body
