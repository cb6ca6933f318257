"""Letters as official documents (issue 9; 党政机关公文格式 GB/T 9704-2012, 党政机关公文处理工作条例
Art. 9): every letter the office sends carries the agency, its contacts, the case and a document
number, the date in Chinese figures and the seal's place; its sentences are whole; and it is
available as a PDF in the national layout (A4, 22 lines of 28 characters) whose text can be read
back."""

from __future__ import annotations

import io
import re
from datetime import date, datetime

import pypdf
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gongkai_review import letters
from gongkai_review.case import Draft, WithheldPart
from gongkai_review.domain.provision import FORM_LABELS
from gongkai_review.letters import GROUNDS, Office
from gongkai_review.numbering import FORMATS, check_formats, format_number
from gongkai_shared import letterpdf as pdf
from gongkai_shared.clock import OFFICE_TZ
from gongkai_shared.events import Letter
from gongkai_shared.letterframe import SEAL, chinese_date
from gongkai_shared.outcomes import BY_CODE, ROWS, Outcome, is_refusal

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


REFUSAL_REASONS = "该文件于2026年3月定密为秘密级，保密期限十年。"
PART_EXPLANATION = "名册含学生姓名和身份证号。"
BODY = "某市人民政府"  # the reconsideration body


def answer(code: str, **extra: object) -> Letter:
    r = next(r for r in ROWS if r.code == code)
    parts = (
        [WithheldPart(part="学生个人信息。", reason="third_party_rights", explanation=PART_EXPLANATION)]
        if r.outcome == "partial"
        else []
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
        reason_text=REFUSAL_REASONS if is_refusal(r.code) or r.code == "other.other" else None,
    )
    return letters.answer_letter(
        applicant="张三",
        description=DESCRIPTION,
        received_on=date(2026, 11, 2),
        draft=draft,
        office=office("answer"),
        reconsideration_body=BODY,
        today=TODAY,
        **extra,  # type: ignore[arg-type]
    )


def provision(form: str, reason: str | None) -> dict:
    """What domain/provision.py hands the answer letter (Art. 40)."""
    at = datetime(2026, 12, 1, 9, 30, tzinfo=OFFICE_TZ)
    inspect = form == "inspection"
    return {
        "form": form,
        "label": FORM_LABELS[form],
        "reason": reason,
        "inspection_date": chinese_date(at.date()) if inspect else None,
        "inspection_time": "9时30分" if inspect else None,
        "inspection_place": "某市政务服务中心三楼。" if inspect else None,
    }


def fee(basis: str) -> Letter:
    per_app = basis == "per_application"
    lines = (
        [{"band": "11-20件", "units": 1, "rate_yuan": 100, "amount_yuan": 100}]
        if per_app
        else [
            {"band": "31-100页", "units": 70, "rate_yuan": 10, "amount_yuan": 700},
            {"band": "101-200页", "units": 20, "rate_yuan": 20, "amount_yuan": 400},
        ]
    )
    return letters.render(
        "fee", "张三", office=office("fee"), today=TODAY, received_on="2026-11-02", basis=basis,
        month="2026-11" if per_app else None, ordinal=11 if per_app else None,
        pages=None if per_app else 120, lines=lines, amount_yuan=100 if per_app else 1100,
        payment_days=20, pay_by="2026-12-22", delivery_presumed=per_app,
    )  # fmt: skip


def correction(decision: str, **values: object) -> Letter:
    return letters.render(
        "correction", "张三", office=office("correction"), today=TODAY, received_on="2026-11-02",
        record="户籍登记出生日期。", decision=decision, remedy="choice", reconsideration_body=BODY,
        **values,
    )  # fmt: skip


def every_letter() -> dict[str, Letter]:
    """One letter of every type, and of every outcome or variant that changes its wording, for a
    sample case."""
    out = {f"answer:{r.code}": answer(r.code) for r in ROWS}
    out["answer:disclose:corrected"] = answer(
        "disclose", corrected_on=date(2026, 11, 9), corrected_request="2025年度某区财政预算执行情况报告全文。"
    )
    for form in FORM_LABELS:
        for changed in (None, "原件年代久远、纸张易损。"):
            if form == "paper" and changed:
                continue  # the applicant's form here is paper: a change goes to another form
            out[f"answer:disclose:{form}{':changed' if changed else ''}"] = answer(
                "disclose", provision=provision(form, changed)
            )
    out["answer:partial:electronic"] = answer("partial", provision=provision("electronic", None))
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
    for basis, reason in (
        ("public_interest", "涉及公共安全。"),
        ("grounds_unreasonable", "所称商业秘密已于2025年公开。"),
    ):
        out[f"override_notice:{basis}"] = letters.render(
            "override_notice", "某科技有限公司", office=office("override_notice"), today=TODAY,
            party="某科技有限公司", description=DESCRIPTION, reason=reason, basis=basis,
            content="某科技有限公司2025年度环境检测数据。", reconsideration_body=BODY,
        )  # fmt: skip
    out["fee:per_application"] = fee("per_application")
    out["fee:per_volume"] = fee("per_volume")
    out["excessive_reasons"] = letters.render(
        "excessive_reasons", "张三", office=office("excessive_reasons"), today=TODAY,
        received_on="2026-11-02", matter="您本月已提交政府信息公开申请四十件。",
    )  # fmt: skip
    out["excessive_deadline"] = letters.render(
        "excessive_deadline", "张三", office=office("excessive_deadline"), today=TODAY,
        received_on="2026-11-02", answer_by="2027-02-01",
    )  # fmt: skip
    out["correction:corrected"] = correction("corrected", correction="出生日期更正为1990年1月1日。")
    out["correction:refused"] = correction("refused", reason="档案记载与原始出生证明一致。")
    out["correction:transferred"] = correction(
        "referred", agency="市公安局", agency_contact="0000-110。", transferred=True
    )
    out["correction:told"] = correction("referred", agency="市公安局", agency_contact=None, transferred=False)
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
    # merged by hand: no clause twice, no signature twice, no report label read as a sentence
    assert letter.body.count("经审查") <= 1 and letter.body.count(CHINESE_TODAY) == 1
    assert lines.count(AGENCY) == 1 and letter.body.count(SEAL) == 1
    body = [s for s in sentences(letter.body) if len(s) > 8]
    assert len(body) == len(set(body)), f"{name}: a sentence is written twice"
    assert "属于“" not in letter.body and "三安全一稳定" not in letter.body and "四类" not in letter.body
    assert not re.search(r"\d{1,2}:\d{2}", letter.body), "times in a letter read 9时30分"


def test_the_known_broken_sentences_are_whole() -> None:
    """Issue 9: '…保护第三方合法权益' as a predicate, '…答复。，本机关…', '…特征求意见。。'."""
    assert "您申请获取的政府信息保护第三方合法权益" not in LETTERS["answer:withhold.third_party_rights"].body
    assert "您申请获取的政府信息涉及商业秘密、个人隐私等，公开会对第三方合法权益造成损害。" in (
        LETTERS["answer:withhold.third_party_rights"].body
    )
    assert "因需要协调多个部门答复，本机关不能" in LETTERS["extension"].body
    # 36(5): the responsible agency and how to reach it, never a placeholder
    referral = LETTERS["answer:not_held.not_this_agency"].body
    assert "由市自然资源局负责公开" in referral and "联系方式：0000-12345678" in referral
    assert "None" not in referral
    assert "事项：涉及其投标文件，特征求意见。根据" in LETTERS["consultation:third_party"].body.replace(
        "\n", ""
    )


NEITHER = "other.withdrawn"  # ended by the applicant: no article decides it


@pytest.mark.parametrize("code", [r.code for r in ROWS])
def test_each_answer_cites_the_article_of_its_outcome(code: str) -> None:
    """Art. 36-39 (and 14-16, 30, 35, 42, 10): every answer names the article that decides it."""
    body = LETTERS[f"answer:{code}"].body
    basis = BY_CODE[code].legal_basis
    if code == NEITHER:
        assert basis == "" and "撤回" in body and "根据的规定" not in body
        return
    assert f"根据{basis}" in body, f"{code}: cites {basis}"


@pytest.mark.parametrize("code", [r.code for r in ROWS if is_refusal(r.code)])
def test_a_refusal_states_its_ground_its_own_reasons_and_reconsideration_first(code: str) -> None:
    """Art. 36(3): 不予公开 states the ground in the regulation's words and this case's reasons;
    行政复议法 2023 Art. 23(1)(4): reconsideration first, before the body named (Art. 24)."""
    body = LETTERS[f"answer:{code}"].body
    assert f"您申请获取的政府信息{GROUNDS[code.split('.')[1]]}。" in body
    assert f"具体理由：{REFUSAL_REASONS}" in body and "本机关决定不予公开。" in body
    assert "第二十三条" in body and "应当先申请行政复议" in body and f"六十日内向{BODY}申请行政复议" in body
    assert "六个月" not in body, "no direct lawsuit for a refusal"


@pytest.mark.parametrize(
    "code", [r.code for r in ROWS if not is_refusal(r.code) and r.outcome != Outcome.partial]
)
def test_every_other_answer_gives_the_choice_of_60_days_or_6_months(code: str) -> None:
    """行政复议法 2023 Art. 23: only 不予公开 needs reconsideration first; 36(7) is a referral, not a
    refusal; every other answer lets the applicant choose."""
    body = LETTERS[f"answer:{code}"].body
    assert f"六十日内向{BODY}申请行政复议，或者自知道该行政行为之日起六个月内向人民法院提起行政诉讼" in body
    assert "应当先申请行政复议" not in body and "不予公开" not in body


def test_a_partial_disclosure_gives_each_part_its_reasons_and_both_remedies() -> None:
    """Art. 37 and 36(3): each withheld part with its ground, article and own reasons; reconsideration
    first only for the withheld parts (行政复议法 Art. 23), the choice for the rest."""
    body = LETTERS["answer:partial"].body
    assert f"根据{BY_CODE['partial'].legal_basis}的规定，本机关向您提供可以公开的部分：招生计划总表。" in body
    ground = GROUNDS["third_party_rights"]
    assert (
        f"1. 学生个人信息：{ground}（依据{BY_CODE['withhold.third_party_rights'].legal_basis}），不予公开。"
        in body
    )
    assert f"理由：{PART_EXPLANATION}" in body
    assert "对本告知书中不予公开的部分不服的" in body and "应当先申请行政复议" in body
    assert "对本告知书的其他内容不服的" in body and "六个月内向人民法院提起行政诉讼" in body


def test_the_answers_that_tell_where_to_turn_say_where() -> None:
    """36(5) and Art. 10: the responsible agency and its contact; 36(7): the special procedure;
    39(1): other channels; 36(6): not processed again; Art. 30, 42 + 109号: deemed abandoned."""
    assert "该政府信息由市自然资源局负责公开，您可以向其申请，联系方式：0000-12345678。" in (
        LETTERS["answer:not_held.not_this_agency"].body
    )
    assert "请您依照有关法律、行政法规的规定办理" in LETTERS["answer:withhold.administrative_inquiry"].body
    assert "通过信访、投诉、举报等相应渠道提出" in LETTERS["answer:not_processed.petition"].body
    assert "不予重复处理" in LETTERS["answer:not_processed.repeat"].body
    for code in ("other.no_clarification", "other.fee_unpaid"):
        assert "视为放弃申请" in LETTERS[f"answer:{code}"].body
    assert "国办函〔2020〕109号" in LETTERS["answer:other.fee_unpaid"].body
    assert "第三十九条第二款" not in LETTERS["answer:not_processed.confirm_obtained"].body
    assert REFUSAL_REASONS in LETTERS["answer:other.other"].body, "其他处理 says what, in this case"


def test_after_a_correction_the_answer_states_both_dates_and_the_corrected_request() -> None:
    """Art. 30, 33: the original receipt date, the correction's date and the corrected request."""
    body = LETTERS["answer:disclose:corrected"].body
    assert "本机关于二〇二六年十一月二日收到" in body and "于二〇二六年十一月九日提交了补正后的申请" in body
    assert "“2025年度某区财政预算执行情况报告全文”" in body


def test_the_form_of_provision_is_stated_and_a_change_cites_article_40() -> None:
    """Art. 40: the form the information is given in; another form than asked for says why (citing
    Art. 40); an inspection gives its day in Chinese, its hour and its place."""
    assert "本机关以纸质文本形式向您提供上述政府信息。" in LETTERS["answer:disclose:paper"].body
    assert "第四十条" not in LETTERS["answer:disclose:electronic"].body
    changed = LETTERS["answer:disclose:electronic:changed"].body
    assert (
        "根据《中华人民共和国政府信息公开条例》第四十条的规定，因原件年代久远、纸张易损，本机关不能按您要求的形式提供，现以电子文件形式"
        in changed
    )
    inspection = LETTERS["answer:disclose:inspection"].body
    assert "请于二〇二六年十二月一日9时30分到某市政务服务中心三楼查阅。" in inspection
    assert "本机关以电子文件形式向您提供上述政府信息。" in LETTERS["answer:partial:electronic"].body


# the article each letter type rests on, and articles it must not cite instead
ARTICLES = {
    "clarification": ("第三十条", "第三十三条"),
    "extension": ("第三十三条", "第三十四条"),
    "consultation:third_party": ("第三十二条", "第三十四条"),
    "consultation:co_producer": ("第三十四条", "第三十三条"),
    "override_notice:public_interest": ("第三十二条", None),
    "override_notice:grounds_unreasonable": ("第三十二条", None),
    "fee:per_application": ("第四十二条", None),
    "fee:per_volume": ("第四十二条", None),
    "excessive_reasons": ("第三十五条", None),
    "excessive_deadline": ("第三十五条", None),
    "correction:corrected": ("第四十一条", None),
    "correction:refused": ("第四十一条", None),
    "correction:transferred": ("第四十一条", None),
    "correction:told": ("第四十一条", None),
}


@pytest.mark.parametrize("name", sorted(ARTICLES))
def test_each_notice_cites_its_own_article(name: str) -> None:
    """Art. 30 补正, 32 third party, 33 extension, 34 co-producer, 35 excessive, 41 correction,
    42 and 109号 fees."""
    cited, wrong = ARTICLES[name]
    body = LETTERS[name].body
    assert f"条例》第{cited[1:]}" in body or f"条例第{cited[1:]}" in body or f"该条例{cited}" in body
    assert wrong is None or wrong not in body


def test_the_periods_given_to_others_run_from_receipt_and_name_what_silence_means() -> None:
    """Art. 30, 32, 34, 109号: periods run from the day the notice is received; a third party's
    silence leaves the decision to the office (Art. 32), a co-producer's is consent (Art. 34)."""
    assert "请您自收到本告知书之日起15个工作日内补正" in LETTERS["clarification"].body
    assert "自收到本征求意见书之日起15个工作日内" in LETTERS["consultation:third_party"].body
    assert "由本机关依照条例的规定决定是否公开" in LETTERS["consultation:third_party"].body
    assert "视为同意公开" in LETTERS["consultation:co_producer"].body
    assert "视为同意公开" not in LETTERS["consultation:agency"].body, "only co-producers (Art. 34)"
    assert "至二〇二六年十二月二十九日" in LETTERS["extension"].body, "Art. 33: the new due date"
    assert "至二〇二七年二月一日" in LETTERS["excessive_deadline"].body, "Art. 35: the later date"


def test_the_fee_notice_shows_its_calculation_and_its_presumed_delivery() -> None:
    """109号: the amount and how it is calculated; per application, the month and the ordinal; the
    payment period from the notice's receipt (presumed until a delivery record says otherwise)."""
    per_app = LETTERS["fee:per_application"].body
    assert "在二〇二六年十一月提出的第11件政府信息公开申请" in per_app and "合计100元" in per_app
    assert "按推定送达日计算，至二〇二六年十二月二十二日" in per_app
    per_volume = LETTERS["fee:per_volume"].body
    assert "1. 31-100页：70页 × 10元 = 700元" in per_volume and "合计1100元" in per_volume
    assert "推定" not in per_volume, "a notice handed over has a known delivery day"


def test_the_third_party_is_told_the_content_the_reasons_and_its_remedies() -> None:
    """Art. 32: the written notice of an override states the content to be disclosed, the reasons,
    and the third party's remedies (the choice: it is not the applicant's refusal)."""
    for basis in ("public_interest", "grounds_unreasonable"):
        body = LETTERS[f"override_notice:{basis}"].body
        assert "某科技有限公司2025年度环境检测数据。" in body and "本机关决定予以公开" in body
        assert "六十日内" in body and "六个月内" in body and "应当先申请行政复议" not in body
    assert "对公共利益造成重大影响：涉及公共安全。" in LETTERS["override_notice:public_interest"].body
    assert "理由不合理：所称商业秘密已于2025年公开。" in LETTERS["override_notice:grounds_unreasonable"].body


def test_a_correction_answer_gives_remedies_except_when_corrected() -> None:
    """Art. 41: corrected, refused (with reasons), transferred or the applicant told where to ask;
    every answer but a correction made names the remedies (the choice)."""
    assert "本机关已予以更正：出生日期更正为1990年1月1日。" in LETTERS["correction:corrected"].body
    assert "六十日内" not in LETTERS["correction:corrected"].body
    assert "理由如下：档案记载与原始出生证明一致。" in LETTERS["correction:refused"].body
    assert "已将您的申请转送市公安局处理（联系方式：0000-110）。" in LETTERS["correction:transferred"].body
    assert "请您向有权更正的市公安局提出。" in LETTERS["correction:told"].body
    for name in ("refused", "transferred", "told"):
        assert "六个月内向人民法院提起行政诉讼" in LETTERS[f"correction:{name}"].body


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
