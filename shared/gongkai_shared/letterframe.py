"""The frame of an official document (党政机关公文格式 GB/T 9704-2012), one copy for every service
that writes to people outside the office: review's letters and notify's own notices (the receipt).

A text (the salutation and the paragraphs) is framed the same way for every letter: the document
number (发文字号) above when the letter has one, then the text, the seal's place (（印章）), the
sending agency and the date in Chinese figures (二〇二六年十一月二十三日), and a note in brackets
(附注) with the office's address, phone and e-mail and the case number. ``letterpdf`` lays a framed
letter out as GB/T 9704 prescribes. Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

SEAL = "（印章）"
# 0-9 in the figures official documents write dates with (〇, not 零)
DIGITS = "〇一二三四五六七八九"
# mid-sentence: no closing punctuation of its own (the sentence around it has that)
_CLOSING = "。，、；：！？.,;:!? \t\n"


def chinese_date(d: date) -> str:
    """``2026-11-23`` → ``二〇二六年十一月二十三日`` (GB/T 9704 §7.3.5.2: the date in Chinese figures)."""
    return f"{_year(d.year)}年{_small(d.month)}月{_small(d.day)}日"


def chinese_month(month: str) -> str:
    """``2026-11`` → ``二〇二六年十一月`` (a calendar month, as the fee notice counts by)."""
    year, _, m = str(month).partition("-")
    return f"{_year(int(year))}年{_small(int(m))}月"


def _year(y: int) -> str:
    return "".join(DIGITS[int(c)] for c in str(y))


def _small(n: int) -> str:
    """1-31 in Chinese figures: 十, 十一, 二十, 二十三, 三十一."""
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else "十" if tens == 1 else DIGITS[tens] + "十"
    return head + (DIGITS[ones] if ones else "")


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def dated(value: Any) -> Any:
    """Dates in a letter are written in Chinese, whether given as a date or as ISO text."""
    if isinstance(value, date):
        return chinese_date(value)
    if isinstance(value, str) and _ISO_DAY.fullmatch(value):
        return chinese_date(date.fromisoformat(value))
    return value


def clause(text: Any) -> str:
    """A fragment set inside a sentence: without the full stop or comma it may have been typed
    with (so "因需要协调。，本机关" and "事项：征求意见。。" cannot happen)."""
    return str(text).strip().rstrip(_CLOSING)


def sentence(text: Any) -> str:
    """A fragment that ends a sentence: with exactly one full stop (none if empty)."""
    body = clause(text)
    return f"{body}。" if body else ""


@dataclass(frozen=True)
class Letterhead:
    """The sending office as its documents show it (each service's ``OfficeSettings``)."""

    name: str = "某市人民政府办公室"
    address: str = "某市某区人民路1号"
    phone: str = "0000-00000000"
    email: str = "gongkai@example.gov.cn"

    def __str__(self) -> str:
        return self.name


def frame(
    text: str,
    office: Letterhead,
    issued_on: date,
    *,
    number: str = "",
    case_id: str = "",
    seal: bool = True,
    holder: str = "案件",
) -> str:
    """``text`` as an official document: number, text, seal, sender, date, note. ``seal=False``
    for an internal notice (a reminder to staff), which carries the sender and date only."""
    note = f"联系地址：{office.address}；联系电话：{office.phone}；电子邮箱：{office.email}"
    if case_id:
        note += f"；{holder}编号：{case_id}"  # 案件, or 文件 for a document's deadline
    parts = [number, "", text.strip(), ""] if number else [text.strip(), ""]
    parts += [SEAL] if seal else []
    parts += [office.name, chinese_date(issued_on), "", f"（{note}）"]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(parts).strip()) + "\n"
