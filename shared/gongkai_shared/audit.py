"""Verifying the log: what an auditor checks, from the log alone.

- **Sequence**: stream sequences are contiguous from 1 (the stream never deletes), so a removed
  or reordered event shows as a gap or a step backwards.
- **Chains**: each event's ``prevhash`` is the SHA-256 of the exact bytes of the previous event
  of the same aggregate; any changed, removed or swapped event breaks its case's chain.
- **Consistency**: the subject names the envelope's aggregate and type, ``Nats-Msg-Id`` its id.
- **Checkpoint**: an export ends with the RFC 6962 Merkle tree hash of all events' bytes, so a
  change to the last event of a case (which no later ``prevhash`` covers) is caught as well.
- **Signed checkpoints** (``checkpoint.py``): against a checkpoint an auditor already holds, the
  first *size* events must still have the signed root: no rewrite, no truncation.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .envelope import Envelope, sha256_hex
from .trust import KeyRing, Untrusted


@dataclass(frozen=True)
class Record:
    """One stored message exactly as the stream holds it."""

    seq: int
    subject: str
    headers: dict[str, str]
    data: bytes

    def to_json(self) -> str:
        return json.dumps(
            {
                "seq": self.seq,
                "subject": self.subject,
                "headers": self.headers,
                "data": base64.b64encode(self.data).decode(),
                "sha256": sha256_hex(self.data),
            },
            ensure_ascii=False,
            sort_keys=True,
        )


@dataclass(frozen=True)
class Problem:
    seq: int | None
    aggregate_id: str | None
    message: str

    def __str__(self) -> str:
        where = f"seq {self.seq}" if self.seq is not None else "log"
        if self.aggregate_id:
            where += f", case {self.aggregate_id}"
        return f"{where}: {self.message}"


@dataclass
class Report:
    events: int = 0
    aggregates: int = 0
    root: str = ""
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


# --- RFC 6962 Merkle tree hash --------------------------------------------------------------


def _leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def merkle_root(leaves: list[bytes]) -> str:
    """MTH of RFC 6962 §2.1 over the events' bytes (hex)."""

    def mth(hashes: list[bytes]) -> bytes:
        if len(hashes) == 1:
            return hashes[0]
        k = 1
        while k * 2 < len(hashes):
            k *= 2
        return _node(mth(hashes[:k]), mth(hashes[k:]))

    if not leaves:
        return hashlib.sha256(b"").hexdigest()
    return mth([_leaf(d) for d in leaves]).hex()


# --- verification ------------------------------------------------------------------------------


def verify_records(records: Iterable[Record], *, first_seq: int = 1, root_vkey: str | None = None) -> Report:
    """Sequence, chains, subject consistency and, with ``root_vkey``, every event's writer: its
    signature by a key the root registered, valid at that position, owned by the subject's
    context (trust.py). Keys are learnt from the records themselves, in log order."""
    report = Report()
    ring = KeyRing(root_vkey) if root_vkey else None
    heads: dict[str, tuple[int, str]] = {}  # aggregate -> (seq, sha256 of its last event)
    expected = first_seq
    datas: list[bytes] = []
    for r in records:
        report.events += 1
        datas.append(r.data)
        if r.seq != expected:
            what = "missing" if r.seq > expected else "out of order"
            report.problems.append(Problem(r.seq, None, f"expected sequence {expected}: events {what}"))
        expected = max(expected, r.seq) + 1
        try:
            env = Envelope.from_bytes(r.data)
        except ValueError as e:
            report.problems.append(Problem(r.seq, None, f"not a valid event: {e}"))
            continue
        agg = env.subject
        parts = r.subject.split(".")
        if len(parts) != 4 or parts[0] != "foi" or parts[2] != agg or parts[3] != env.name:
            report.problems.append(Problem(r.seq, agg, f"subject {r.subject} does not match the event"))
        if ring is not None:
            if r.subject.startswith("foi.trust."):
                ring.learn(r.seq, r.subject, r.headers, r.data)
            try:
                ring.check(r.seq, r.subject, r.headers, r.data, env)
            except Untrusted as e:
                report.problems.append(Problem(r.seq, agg, f"writer not proven: {e}"))
        msg_id = r.headers.get("Nats-Msg-Id")
        if msg_id is not None and msg_id != env.id:
            report.problems.append(Problem(r.seq, agg, "Nats-Msg-Id does not match the event id"))
        prev_seq, prev_hash = heads.get(agg, (None, ""))
        if env.prevhash != prev_hash:
            after = f"the event at seq {prev_seq}" if prev_seq else "nothing (first event)"
            report.problems.append(Problem(r.seq, agg, f"hash chain broken: prevhash does not match {after}"))
        heads[agg] = (r.seq, sha256_hex(r.data))
    report.aggregates = len(heads)
    report.root = merkle_root(datas)
    return report


# --- export files -----------------------------------------------------------------------------


def write_export(path: Path, records: Iterable[Record]) -> Report:
    """JSON lines: one line per event, then a checkpoint line with size and Merkle root."""
    collected = list(records)
    report = verify_records(collected)
    with path.open("w", encoding="utf-8") as f:
        for r in collected:
            f.write(r.to_json() + "\n")
        checkpoint = {"checkpoint": {"size": len(collected), "root": report.root}}
        f.write(json.dumps(checkpoint) + "\n")
    return report


def read_export(path: Path) -> tuple[list[Record], dict[str, Any] | None]:
    records: list[Record] = []
    checkpoint = None
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            if "checkpoint" in obj:
                checkpoint = obj["checkpoint"]
                continue
            records.append(
                Record(
                    int(obj["seq"]),
                    obj["subject"],
                    dict(obj.get("headers") or {}),
                    base64.b64decode(obj["data"], validate=True),
                )
            )
        except (ValueError, KeyError, TypeError) as e:
            raise ValueError(f"{path}:{n}: not an export line ({e})") from e
    return records, checkpoint


def verify_export(path: Path, root_vkey: str | None = None) -> Report:
    records, checkpoint = read_export(path)
    report = verify_records(records, root_vkey=root_vkey)
    if checkpoint is None:
        report.problems.append(Problem(None, None, "no checkpoint line: the export is truncated"))
    else:
        if checkpoint.get("size") != len(records):
            report.problems.append(
                Problem(
                    None,
                    None,
                    f"checkpoint says {checkpoint.get('size')} events, file has {len(records)}",
                )
            )
        if checkpoint.get("root") != report.root:
            report.problems.append(
                Problem(None, None, "Merkle root differs from the checkpoint: an event's bytes changed")
            )
    return report


def iter_lines(report: Report) -> Iterator[str]:
    for p in report.problems:
        yield f"FAIL {p}"


def check_checkpoint(records: list[Record], size: int, root: str) -> list[Problem]:
    """Problems if the log's first ``size`` events are not the ones a signed checkpoint covers."""
    if len(records) < size:
        return [
            Problem(
                None,
                None,
                f"the log holds {len(records)} events, the signed checkpoint {size}: events were removed",
            )
        ]
    if merkle_root([r.data for r in records[:size]]) != root:
        return [
            Problem(
                None,
                None,
                f"the first {size} events no longer have the signed checkpoint's root: the log was rewritten",
            )
        ]
    return []
