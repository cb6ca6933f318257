"""A long log, written fast: properly chained and signed events, published pipelined.

Each event is a ``decision-recorded`` of one of ``cases`` cases, in turn, with the prevhash of
the case's previous event and the review service's signature, as ``EventStore.append`` would
write it, but without waiting for each acknowledgement (one connection keeps the order). Used
by the audit tests and benchmark, which need many events and no service.
"""

from __future__ import annotations

import json
import uuid

from gongkai_shared.envelope import Actor, sha256_hex
from gongkai_shared.events import DecisionRecorded, make_event, subject_for
from gongkai_shared.eventstore import MSG_ID, EventStore
from gongkai_shared.trust import EventSigner
from tests.servers import NatsServer

CONTEXT = "review"


class BulkNatsServer(NatsServer):
    """The test server without ``sync_interval: always``: a long log written fast, to be read
    (reading is unaffected; an acknowledged write is not fsynced at once)."""

    def write_config(self) -> None:
        super().write_config()
        always = '"sync_interval": "always"'
        text = self.conf.read_text()
        assert always in text, "the broker's configuration changed: update tests/bulk.py"
        self.conf.write_text(text.replace(always, '"sync_interval": "2m"'))


async def fill(store: EventStore, signer: EventSigner, n: int, cases: int = 1000) -> int:
    """Append ``n`` events over ``cases`` new cases; returns the stream's last sequence."""
    body = DecisionRecorded(case_id="x", outcome="withhold", reasons=["state_secret"], legal_basis="第十四条")
    template = make_event(body, aggregate_id="x", actor=Actor(id="bulk", role="reviewer"))
    doc = template.model_dump(mode="json", exclude_none=True)
    ids = [str(uuid.uuid4()) for _ in range(min(cases, n) or 1)]
    heads: dict[str, str] = {}
    start = await store.last_seq()
    for i in range(n):
        case = ids[i % len(ids)]
        eid = str(uuid.uuid4())
        event = {**doc, "id": eid, "correlationid": eid, "causationid": eid, "subject": case,
                 "prevhash": heads.get(case, ""), "data": {**doc["data"], "case_id": case}}  # fmt: skip
        data = json.dumps(event, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
        subject = subject_for(CONTEXT, case, template.name)
        await store.js.publish_async(subject, data, headers={MSG_ID: eid, **signer.headers(subject, data)})
        heads[case] = sha256_hex(data)
    await store.js.publish_async_completed()
    last = await store.last_seq()
    if last != start + n:
        raise RuntimeError(f"the log holds {last - start} of the {n} events published")
    return last
