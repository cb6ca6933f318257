"""A letter as a PDF in the national layout of official documents (GB/T 9704-2012).

- A4 (210 × 297 mm); margins 37 mm top, 28 mm left, 26 mm right, 35 mm bottom: a text area of
  156 × 225 mm holding **22 lines of 28 characters** of the body in 三号 (16 pt);
- the title in 二号 (22 pt), centred, under it the document number (发文字号), a blank line, the
  salutation flush left, each paragraph indented two characters; the seal's place (（印章）), the
  agency and the date in Chinese right-aligned four characters from the right edge (右空四字);
  the note (附注: contacts, case number) in brackets, indented two characters; page numbers
  ``— 1 —`` in 四号 under the text area, odd pages right, even pages left (单页码居右、双页码居左);
- no punctuation opens a line (避头): it hangs at the end of the line before.

The font is Adobe's ``STSong-Light``, one of the CID fonts every PDF reader has for Simplified
Chinese (reportlab writes its name and metrics; nothing is embedded, nothing is installed): the
standard's 仿宋 and 小标宋 are not among them, so body and title are both set in Song. The text
stays extractable (it is written in the UniGB-UCS2 encoding).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from gongkai_shared.events import Letter

from .letterframe import SEAL

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

TOP, LEFT, RIGHT, BOTTOM = 37 * mm, 28 * mm, 26 * mm, 35 * mm
WIDTH = A4[0] - LEFT - RIGHT  # 156 mm
HEIGHT = A4[1] - TOP - BOTTOM  # 225 mm
LINES, CHARS = 22, 28
PITCH = HEIGHT / LINES  # the distance between two lines' baselines
BODY, TITLE, FOLIO = 16.0, 22.0, 14.0  # 三号, 二号, 四号
EM = WIDTH / CHARS  # one character of the body's grid
SPACE = EM - BODY  # the spacing that puts 28 characters of 三号 on 156 mm

NO_START = set("，。、；：？！）》〉」』】〕”’…—,.;:?!)]%")
_TOKEN = re.compile(r"[A-Za-z0-9@._\-/:+%]+|.", re.S)  # an address or a figure is not broken


@dataclass(frozen=True)
class Line:
    text: str
    align: str = "left"  # left | centre | right (four characters from the edge) | sign
    ref: str = ""  # sign: centred over this line (the date), as the agency's name is
    size: float = BODY
    indent: int = 0  # characters


def _width(text: str, size: float = BODY) -> float:
    spacing = SPACE * size / BODY
    return pdfmetrics.stringWidth(text, FONT, size) + spacing * len(text)


def wrap(text: str, first_indent: int = 0, size: float = BODY) -> list[str]:
    """``text`` broken into lines of the text area's width; the first one indented."""
    out: list[str] = []
    line, room = "", WIDTH - first_indent * EM * size / BODY
    for token in _TOKEN.findall(text):
        for piece in list(token) if _width(token, size) > WIDTH else [token]:  # longer than a line
            if line and _width(line + piece, size) > room:
                if piece[0] in NO_START:  # hangs at the end of this line rather than opening the next
                    line += piece
                    continue
                out.append(line)
                line, room = "", WIDTH
            line += piece
    out.append(line)
    return out


def layout(letter: Letter) -> list[list[Line]]:
    """The letter's lines, page by page (22 to a page)."""
    lines: list[Line] = [Line(t, "centre", size=TITLE) for t in wrap(letter.title, size=TITLE)]
    text = letter.body.strip("\n").split("\n")
    if letter.number and text and text[0].strip() == letter.number:
        lines.append(Line(letter.number, "centre"))
        text = text[1:]
    lines.append(Line(""))
    seal = text.index(SEAL) if SEAL in text else len(text)
    main, tail = text[:seal], text[seal:]
    first = True
    for raw in main:
        raw = raw.strip()
        if not raw:
            continue
        indent = 0 if first and raw.endswith("：") else 2  # the salutation is flush left
        first = False
        for i, t in enumerate(wrap(raw, indent)):
            lines.append(Line(t, indent=indent if i == 0 else 0))
    if tail:  # the seal's place, the agency, the date: kept on one page
        date = tail[2].strip() if len(tail) > 2 else ""
        signature = [Line(t.strip(), "sign", ref=date) for t in tail[:2]] + [Line(date, "right")]
        note = [t.strip() for t in tail[3:] if t.strip()]
        lines.append(Line(""))
        if len(lines) % LINES + len(signature) > LINES:
            lines.extend(Line("") for _ in range(LINES - len(lines) % LINES))
        lines.extend(signature)
        if note:
            lines.append(Line(""))
            for raw in note:
                for i, t in enumerate(wrap(raw, 2)):
                    lines.append(Line(t, indent=2 if i == 0 else 0))
    pages = [lines[i : i + LINES] for i in range(0, len(lines), LINES)]
    return [p for p in pages if any(x.text for x in p)] or [[]]


def render(letter: Letter) -> bytes:
    """The PDF of ``letter`` (GB/T 9704 layout)."""
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, pageCompression=1)
    canvas.setTitle(letter.title)
    canvas.setSubject(letter.number or "")
    pages = layout(letter)
    for n, page in enumerate(pages, start=1):
        for i, line in enumerate(page):
            if line.text:
                _draw(canvas, line, A4[1] - TOP - (i + 1) * PITCH + (PITCH - line.size) / 2)
        folio = f"— {n} —"
        w = pdfmetrics.stringWidth(folio, FONT, FOLIO)
        x = A4[0] - RIGHT - EM - w if n % 2 else LEFT + EM
        canvas.setFont(FONT, FOLIO)
        canvas.drawString(x, BOTTOM - 7 * mm - FOLIO, folio)
        canvas.showPage()
    canvas.save()
    return out.getvalue()


def _draw(canvas: Canvas, line: Line, y: float) -> None:
    width = _width(line.text, line.size)
    if line.align == "centre":
        x = LEFT + (WIDTH - width) / 2
    elif line.align == "right":
        x = LEFT + WIDTH - 4 * EM - width
    elif line.align == "sign":  # centred over the date
        ref = _width(line.ref, line.size)
        x = LEFT + WIDTH - 4 * EM - ref / 2 - width / 2
    else:
        x = LEFT + line.indent * EM
    text = canvas.beginText(x, y)
    text.setFont(FONT, line.size)
    text.setCharSpace(SPACE * line.size / BODY)
    text.textLine(line.text)
    canvas.drawText(text)
