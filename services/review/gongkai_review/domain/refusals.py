"""Documents in decisions, and the refusal register (不予公开登记) as review keeps it (issue 10).

- Seed measures Art. 25: information once refused must not be released by any department in any
  form. The register holds the **documents** a signed decision withheld, whole or a part
  (``information.register_entries``), never the applicant's wording; so a draft, a sign-off and
  an answer letter that would disclose a document with a standing entry (from any case) are
  refused with the message naming the entry (``information.blocks_disclosure``,
  ``information.refusal_message``). A part withheld again by this answer is no release (Art. 37).
- 条例 Art. 18: each entry is reviewed periodically (``REVIEW_EVERY_DAYS`` after registration,
  then by the date the last review set, never further than that period ahead) and can be lifted
  with a recorded reason when circumstances change. Reviewing keeps it (``refusal-reviewed``),
  lifting ends it (``refusal-lifted``); giving the same command again changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated

from pydantic import Field

from gongkai_shared.events import Day, RefusalLifted, RefusalReviewed
from gongkai_shared.information import (
    REVIEW_EVERY_DAYS,
    DocumentId,
    DocumentRef,
    RegisterEntry,
    blocks_disclosure,
    refusal_message,
)

from .common import Context, Input, Text, reject

DocumentIds = Annotated[list[DocumentId], Field(default_factory=list, max_length=50)]


def refs(ids: Iterable[str], ctx: Context) -> list[DocumentRef]:
    """The documents named by id, as the agency registered them (their identity now), each once."""
    out = []
    for document_id in dict.fromkeys(ids):
        ref = ctx.documents.get(document_id)
        if ref is None:
            raise reject(f"政府信息 {document_id} 未登记 (no such document)")
        out.append(ref)
    return out


def check_register(
    documents: Iterable[DocumentRef], withheld_parts: dict[str, set[str]], ctx: Context
) -> None:
    """Seed measures Art. 25: nothing with a standing register entry is disclosed, unless the
    entry is a part this answer withholds too (Art. 37)."""
    for d in documents:
        for entry in ctx.refusals:
            if blocks_disclosure(entry, d.document_id, withheld_parts.get(d.document_id, set())):
                raise reject(refusal_message(entry))


# --- the register's own commands (aggregate: the entry id) ---------------------------------


@dataclass(frozen=True)
class EntryState:
    """One register entry as review's projection holds it."""

    entry: RegisterEntry
    registered_on: date
    review_due_on: date  # Art. 18: registered_on + REVIEW_EVERY_DAYS, then each review's next date
    last_reviewed_on: date | None = None
    last_review_reason: str | None = None
    lifted_on: date | None = None
    lifted_reason: str | None = None

    @property
    def standing(self) -> bool:
        return self.lifted_on is None

    def due(self, today: date) -> bool:
        return self.standing and self.review_due_on <= today


class ReviewRefusal(Input):
    reason: Text  # why it is kept (the grounds still hold)
    next_review_on: Day


class LiftRefusal(Input):
    reason: Text  # what changed (Art. 18)


def review_refusal(e: EntryState, c: ReviewRefusal, ctx: Context) -> RefusalReviewed | None:
    """Art. 18: a standing entry is kept, to be reviewed again after today and at most
    ``REVIEW_EVERY_DAYS`` ahead. The same review given again the same day changes nothing."""
    if not e.standing:
        raise reject(f"登记 {e.entry.entry_id} 已于 {e.lifted_on} 解除，不能复核 (the entry was lifted)")
    latest = ctx.today + timedelta(days=REVIEW_EVERY_DAYS)
    if not ctx.today < c.next_review_on <= latest:
        raise reject(
            f"下次复核日期须在今天之后、{latest} 之前 (next_review_on: after today, at most "
            f"{REVIEW_EVERY_DAYS} days ahead)"
        )
    if (e.last_reviewed_on, e.last_review_reason, e.review_due_on) == (ctx.today, c.reason, c.next_review_on):
        return None
    return RefusalReviewed(
        entry_id=e.entry.entry_id,
        document_id=e.entry.document_id,
        reason=c.reason,
        next_review_on=c.next_review_on,
    )


def lift_refusal(e: EntryState, c: LiftRefusal, ctx: Context) -> RefusalLifted | None:
    """Art. 18: circumstances changed; the document may be disclosed again. Lifting a lifted entry
    changes nothing."""
    if not e.standing:
        return None
    return RefusalLifted(
        entry_id=e.entry.entry_id, document_id=e.entry.document_id, reason=c.reason, lifted_on=ctx.today
    )
