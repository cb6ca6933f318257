"""Text that every reader can store: no control characters, no lone surrogates.

PostgreSQL refuses NUL in ``text`` and ``jsonb``, and a lone surrogate (U+D800–U+DFFF) cannot be
encoded as UTF-8 at all: one such character in an event would stop every projection that stores
it. So every text field, in the events and at every HTTP edge, is one of two types:

- :data:`Line`, a single line (names, titles, identifiers, phone numbers, address lines,
  codes): no C0 control character (U+0000–U+001F, tab and line breaks included) and no U+007F;
- :data:`Paragraph`, text that may run over several lines (descriptions, reasons, letter
  bodies, notes): the same, except that tab, line feed and carriage return are allowed.

Both refuse lone surrogates. The rule is also in the JSON Schema (``pattern``), so the event
catalogue and the OpenAPI documents say it. ``Annotated[str, line(200)]`` and
``Annotated[str, paragraph(5000)]`` add lengths (use them rather than ``Field(max_length=…)`` on
an optional or list field, whose length check pydantic would otherwise run after this one, with a
confusing message).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

LINE_PATTERN = r"^[^\u0000-\u001f\u007f]*$"
PARAGRAPH_PATTERN = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$"

LINE_MESSAGE = "只能填写一行，不得包含换行、制表符等控制字符 (one line: control characters are not allowed)"
PARAGRAPH_MESSAGE = (
    "不得包含控制字符（换行和制表符除外） (control characters other than tab and line breaks are not allowed)"
)
SURROGATE_MESSAGE = "含有无法编码的字符 (lone surrogates cannot be encoded as UTF-8)"

_LINE_BAD = re.compile(r"[\x00-\x1f\x7f]")
_PARAGRAPH_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


class _Text:
    """Pydantic metadata: check a ``str`` after its own constraints, and document the rule."""

    def __init__(self, kind: str, bad: re.Pattern[str], pattern: str, message: str) -> None:
        self.kind, self.bad, self.pattern, self.message = kind, bad, pattern, message

    def check(self, value: str) -> str:
        if _SURROGATE.search(value):
            raise PydanticCustomError("invalid_unicode", SURROGATE_MESSAGE)
        if self.bad.search(value):
            raise PydanticCustomError("control_characters", self.message)
        return value

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema.setdefault("pattern", self.pattern)
        return json_schema

    def __repr__(self) -> str:
        return self.kind


LINE = _Text("Line", _LINE_BAD, LINE_PATTERN, LINE_MESSAGE)
PARAGRAPH = _Text("Paragraph", _PARAGRAPH_BAD, PARAGRAPH_PATTERN, PARAGRAPH_MESSAGE)

Line = Annotated[str, LINE]
"""One line of text: no control characters at all."""

Paragraph = Annotated[str, PARAGRAPH]
"""Text over one or more lines: no control characters except tab, line feed, carriage return."""


class _Sized(_Text):
    """A :class:`_Text` with a length range, checked before the characters."""

    def __init__(self, base: _Text, max_length: int, min_length: int) -> None:
        super().__init__(base.kind, base.bad, base.pattern, base.message)
        self.max_length, self.min_length = max_length, min_length

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        sized = core_schema.str_schema(min_length=self.min_length or None, max_length=self.max_length)
        return core_schema.no_info_after_validator_function(self.check, sized)

    def __repr__(self) -> str:
        return f"{self.kind}({self.min_length}..{self.max_length})"


def line(max_length: int, *, min_length: int = 0) -> _Sized:
    """Metadata for ``Annotated[str, line(…)]``: a :data:`Line` of ``min_length`` to ``max_length``."""
    return _Sized(LINE, max_length, min_length)


def paragraph(max_length: int, *, min_length: int = 0) -> _Sized:
    """Metadata for ``Annotated[str, paragraph(…)]``: a :data:`Paragraph` of the given lengths."""
    return _Sized(PARAGRAPH, max_length, min_length)


def as_paragraph(text: str) -> str:
    """``text`` made a valid :data:`Paragraph`: each refused character becomes U+FFFD.

    For text the system did not write itself (an SMTP server's or a webhook's error message).
    """
    text = _SURROGATE.sub("\ufffd", text)
    return _PARAGRAPH_BAD.sub("\ufffd", text)
