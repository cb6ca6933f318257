"""Letters as official documents (issue 9; 党政机关公文格式 GB/T 9704-2012, 党政机关公文处理工作条例
Art. 9): every letter the office sends carries the agency, its contacts, the case and a document
number, the date in Chinese figures and the seal's place; its sentences are whole; and it is
available as a PDF in the national layout (A4, 22 lines of 28 characters) whose text can be read
back."""

from __future__ import annotations

import io
import re
from datetime import date

import pypdf
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gongkai_review import letters, pdf
from gongkai_review.case import Draft, WithheldPart
from gongkai_review.letters import SEAL, Office, chinese_date
from gongkai_review.numbering import FORMATS, check_formats, format_number
from gongkai_shared.events import Letter
from gongkai_shared.outcomes import ROWS, Outcome

TODAY = date(2026, 11, 23)
CHINESE_TODAY = "二〇二六年十一月二十三日"
AGENCY = "某市人民政府办公室"
BAD = ("。，", "。。", "，。", "根据的规定")
# what people type: fragments that end with a full stop, as the known broken letters had
DESCRIPTION = "2025年度某区财政预算执行情况。"
REASON = "需要协调多个部门答复。"
MATTER = "涉及其投标文件，特征求意见。"


def office(kind: str) -> Office:
    return Office(name=AGENCY, numbers=dict(FORMATS)).numbered(
        "case-7", format_number(kind, 2026, 12, FORMATS)
    )


def answer(code: str) -> Letter:
    r = next(r for r in ROWS if r.code == code)
    parts = (
        [WithheldPart(part="学生个人信息。", reason="third_party_rights")] if r.outcome == "partial" else []
    )
    draft = Draft(
        draft_id="d1",
        drafted_by="甲",
        outcome=r.outcome.value,
        outcome_code=r.code,
        legal_basis=r.legal_basis,
        title="答复",
        disclosed_content="招生计划总表" if r.outcome in (Outcome.disclose, Outcome.partial) else None,
        withheld_parts=parts,
        responsible_agency="市自然资源局"
        if r.code in ("not_held.not_held", "not_held.not_this_agency")
        else None,
        responsible_agency_contact="0000-12345678" if r.code == "not_held.not_this_agency" else None,
        published_at="本机关门户网站政府信息公开专栏。" if r.reason == "already_published" else None,
        note="如有疑问请与本机关联系。",
    )
    return letters.answer_letter(
        applicant="张三",
        description=DESCRIPTION,
        received_on=date(2026, 11, 2),
        draft=draft,
        office=office("answer"),
        reconsideration_body="某市人民政府",
        today=TODAY,
    )


def every_letter() -> dict[str, Letter]:
    """One letter of every type and every answer outcome, for a sample case."""
    out = {f"answer:{r.code}": answer(r.code) for r in ROWS}
    out["clarification"] = letters.render(
        "clarification", "张三", office=office("clarification"), today=TODAY,
        received_on="2026-11-02", items=["请提供文件的文号。", "请说明年份"], period_days=15,
    )  # fmt: skip
    out["extension"] = letters.render(
        "extension", "张三", office=office("extension"), today=TODAY,
        received_on="2026-11-02", reason=REASON, working_days=20, new_due_on="2026-12-29",
    )  # fmt: skip
    for kind in ("third_party", "co_producer", "agency"):
        out[f"consultation:{kind}"] = letters.render(
            "consultation", "某科技有限公司", office=office("consultation"), today=TODAY,
            party="某科技有限公司", party_kind=kind, description=DESCRIPTION, matter=MATTER,
            reply_days=15, silent="agency_decides",
        )  # fmt: skip
    out["override_notice"] = letters.render(
        "override_notice", "某科技有限公司", office=office("override_notice"), today=TODAY,
        party="某科技有限公司", description=DESCRIPTION, reason="涉及公共安全。", basis="public_interest",
        content="某科技有限公司2025年度环境检测数据。", reconsideration_body="某市人民政府",
    )  # fmt: skip
    return out


LETTERS = every_letter()


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[。！？])", text) if s.strip()]


@pytest.mark.parametrize("name", sorted(LETTERS))
def test_every_letter_is_an_official_document_with_whole_sentences(name: str) -> None:
    """GB/T 9704 §7.2-7.3: document number, sender, date in Chinese, seal; no broken sentences."""
    letter = LETTERS[name]
    kind = name.split(":")[0]
    number = format_number(kind, 2026, 12, FORMATS)
    lines = letter.body.splitlines()
    assert letter.number == number and lines[0] == number and letter.issued_on == TODAY
    seal = lines.index(SEAL)
    assert lines[seal + 1 : seal + 3] == [AGENCY, CHINESE_TODAY]
    assert "联系电话：" in letter.body and "电子邮箱：" in letter.body and "案件编号：case-7" in letter.body
    assert not re.search(r"\d{4}-\d{2}-\d{2}", letter.body), "dates are written in Chinese"
    for s in sentences(letter.body):
        assert not any(b in s for b in BAD), f"{name}: {s!r}"
    assert "{{" not in letter.body and "本机关\n" not in letter.body
    assert "None" not in letter.body and "：。" not in letter.body, "no empty or missing value is printed"


def test_the_known_broken_sentences_are_whole() -> None:
    """Issue 9: '…保护第三方合法权益' as a predicate, '…答复。，本机关…', '…特征求意见。。'."""
    assert "您申请获取的政府信息保护第三方合法权益" not in LETTERS["answer:withhold.third_party_rights"].body
    assert "理由：保护第三方合法权益。" in LETTERS["answer:withhold.third_party_rights"].body
    assert "因需要协调多个部门答复，本机关不能" in LETTERS["extension"].body
    # 36(5): the responsible agency and how to reach it, never a placeholder
    referral = LETTERS["answer:not_held.not_this_agency"].body
    assert "由市自然资源局负责公开" in referral and "联系方式：0000-12345678" in referral
    assert "None" not in referral
    assert "事项：涉及其投标文件，特征求意见。根据" in LETTERS["consultation:third_party"].body.replace(
        "\n", ""
    )


def pdf_text(data: bytes) -> tuple[int, str]:
    reader = pypdf.PdfReader(io.BytesIO(data))
    text = "".join(p.extract_text() for p in reader.pages)
    return len(reader.pages), re.sub(r"\s+", "", text)


@pytest.mark.parametrize("name", sorted(LETTERS))
def test_every_letter_as_pdf_has_the_agency_the_number_and_the_chinese_date(name: str) -> None:
    letter = LETTERS[name]
    data = pdf.render(letter)
    assert data.startswith(b"%PDF") and b"STSong-Light" in data
    pages, text = pdf_text(data)
    # one page per page of its layout (22 lines each: test_pages_hold_22_lines_of_28_characters);
    # the sample letters take one or two
    assert pages == len(pdf.layout(letter)) and pages in (1, 2)
    for needed in (letter.title, AGENCY, letter.number, CHINESE_TODAY, SEAL, f"—{pages}—"):
        assert needed and needed in text, needed


def test_pdf_page_is_a4_with_the_standard_margins() -> None:
    page = pypdf.PdfReader(io.BytesIO(pdf.render(LETTERS["extension"]))).pages[0]
    assert (
        round(float(page.mediabox.width) / 72 * 25.4),
        round(float(page.mediabox.height) / 72 * 25.4),
    ) == (
        210,
        297,
    )
    assert round(pdf.WIDTH / pdf.mm) == 156 and round(pdf.HEIGHT / pdf.mm) == 225


def long_letter(chars: int) -> Letter:
    """A letter whose one paragraph fills ``chars`` lines exactly (28 characters, two of them the
    paragraph's indent)."""
    body = "\n".join(
        [
            "X政信公开〔2026〕1号",
            "",
            "张三：",
            "",
            "甲" * (chars * 28 - 2),
            "",
            SEAL,
            AGENCY,
            CHINESE_TODAY,
            "",
            "（案件编号：c-1）",
        ]
    )
    return Letter(
        kind="answer",
        title="政府信息公开申请答复告知书",
        body=body,
        recipient="张三",
        number="X政信公开〔2026〕1号",
    )


# lines: title, number, blank, salutation = 4; the paragraph; blank; seal, agency, date (kept on
# one page); blank; the note: 22 to a page
@pytest.mark.parametrize(("lines", "pages"), [(1, 1), (12, 1), (13, 2), (34, 2), (35, 3)])
def test_pages_hold_22_lines_of_28_characters(lines: int, pages: int) -> None:
    letter = long_letter(lines)
    count, text = pdf_text(pdf.render(letter))
    assert count == pages
    assert text.count("甲") == lines * 28 - 2 and f"—{pages}—" in text


def test_no_line_opens_with_punctuation() -> None:
    """GB/T 9704 / 标点符号用法 GB/T 15834: a comma or full stop never opens a line."""
    for text in ("政" * 26 + "，后文", "政" * 27 + "。后文", "政" * 54 + "，" + "政" * 10):
        for line in pdf.wrap(text, 0)[1:]:
            assert line[0] not in pdf.NO_START


def parse_chinese_date(text: str) -> date:
    """An independent reader of 二〇二六年十一月二十三日."""
    digits = {c: i for i, c in enumerate("〇一二三四五六七八九")}
    m = re.fullmatch(
        r"([〇一二三四五六七八九]{4})年([一二三四五六七八九十]+)月([一二三四五六七八九十]+)日", text
    )
    assert m, text

    def small(s: str) -> int:
        if "十" not in s:
            return digits[s]
        tens, _, ones = s.partition("十")
        return (digits[tens] if tens else 1) * 10 + (digits[ones] if ones else 0)

    return date(int("".join(str(digits[c]) for c in m[1])), small(m[2]), small(m[3]))


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2999, 12, 31)))
def test_chinese_dates_read_back_as_the_same_day(d: date) -> None:
    """GB/T 9704 §7.3.5.2: 成文日期 in Chinese figures, 〇 for zero, no 零, no leading 十 for 10-19
    written as 一十."""
    text = chinese_date(d)
    assert parse_chinese_date(text) == d
    assert "零" not in text and "一十" not in text and not re.search(r"\d", text)


def test_chinese_date_examples() -> None:
    assert chinese_date(date(2026, 11, 23)) == "二〇二六年十一月二十三日"
    assert chinese_date(date(2027, 1, 10)) == "二〇二七年一月十日"
    assert chinese_date(date(2030, 10, 30)) == "二〇三〇年十月三十日"


def test_number_formats_must_number_and_differ() -> None:
    """Numbers unique per type and year: each format has {year} and {number}, and no two types
    write the same text (types without a format share the default's counter)."""
    assert check_formats({})["answer"] == FORMATS["answer"]
    with pytest.raises(ValueError, match="year"):
        check_formats({"answer": "X政信公开第{number}号"})
    with pytest.raises(ValueError, match="same number format"):
        check_formats({"extension": FORMATS["answer"]})
    with pytest.raises(ValueError, match="only"):
        check_formats({"answer": "{agency}〔{year}〕{number}号"})
    assert format_number("fee", 2026, 3, FORMATS) == "X政信函〔2026〕3号"
