"""Verifying the log: what an auditor checks, from the log alone, in one pass.

- **Sequence**: stream sequences are contiguous from 1 (the stream never deletes), so a removed
  or reordered event shows as a gap or a step backwards.
- **Chains**: each event's ``prevhash`` is the SHA-256 of the exact bytes of the previous event
  of the same aggregate; any changed, removed or swapped event breaks its case's chain.
- **Consistency**: the subject names the envelope's aggregate and type, ``Nats-Msg-Id`` its id.
- **Writers**: with the root verifier key, every event's signature by a key the root registered
  (gongkai_shared.trust), the keys learnt from the log itself in log order.
- **Checkpoint**: an export ends with the RFC 6962 Merkle tree hash of all events' bytes, so a
  change to the last event of a case (which no later ``prevhash`` covers) is caught as well.
- **Signed checkpoints** (gongkai_shared.checkpoint): against a checkpoint an auditor already
  holds, the first *size* events must still have the signed root: no rewrite, no truncation.

Everything streams: a :class:`Verifier` takes the records one at a time and keeps, per
aggregate, only the sequence and hash of its last event, and for the Merkle tree one hash per
level (O(log n)). An export is written and read line by line. Memory grows with the number of
cases, never with the number of events.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from gongkai_shared.envelope import Envelope, sha256_hex
from gongkai_shared.merkle import MerkleTree, merkle_root
from gongkai_shared.trust import KeyRing, Untrusted

MAX_PROBLEMS = 1000  # problems kept for the report; beyond that they are only counted


@dataclass(frozen=True, slots=True)
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
    omitted: int = 0  # problems found beyond MAX_PROBLEMS, counted and not kept

    @property
    def ok(self) -> bool:
        return not self.problems and not self.omitted

    @property
    def problem_count(self) -> int:
        return len(self.problems) + self.omitted

    @property
    def first_broken(self) -> int | None:
        """The first position (stream sequence) a problem is pinned to, if any is."""
        seqs = [p.seq for p in self.problems if p.seq is not None]
        return min(seqs) if seqs else None

    def add(self, problem: Problem) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)
        else:
            self.omitted += 1


# --- verification ------------------------------------------------------------------------------


class Verifier:
    """Sequence, chains, subject consistency and, with ``root_vkey``, every event's writer: its
    signature by a key the root registered, valid at that position, owned by the subject's
    context (trust.py). Feed it the records in log order (:meth:`add`), then :meth:`finish`.

    ``signed``: the (size, root) of a signed checkpoint; the first ``size`` records must have
    that Merkle root."""

    def __init__(self, *, first_seq: int = 1, root_vkey: str | None = None,
                 signed: tuple[int, str] | None = None) -> None:  # fmt: skip
        self.report = Report()
        self._ring = KeyRing(root_vkey) if root_vkey else None
        self._heads: dict[str, tuple[int, str]] = {}  # aggregate -> (seq, sha256 of its last event)
        self._expected = first_seq
        self._tree = MerkleTree()
        self._signed = signed
        self._signed_root: str | None = None  # the Merkle root of the first ``signed`` size records
        self._last = first_seq - 1  # the highest sequence seen

    def add(self, r: Record) -> None:
        report, problem = self.report, self.report.add
        report.events += 1
        self._tree.add(r.data)
        if self._signed is not None and self._tree.size == self._signed[0]:
            self._signed_root = self._tree.root()
        if r.seq > self._expected:  # pinned where the first missing event should be
            missing = f"{self._expected}" if r.seq == self._expected + 1 else f"{self._expected}-{r.seq - 1}"
            problem(Problem(self._expected, None, f"expected sequence {self._expected}, found {r.seq}:"
                                                  f" event(s) {missing} missing"))  # fmt: skip
        elif r.seq < self._expected:
            problem(Problem(r.seq, None, f"expected sequence {self._expected}, found {r.seq} again:"
                                         " an event inserted or out of order"))  # fmt: skip
        self._last = max(self._last, r.seq)
        self._expected = max(self._expected, r.seq) + 1
        try:
            env = Envelope.from_bytes(r.data)
        except ValueError as e:
            problem(Problem(r.seq, None, f"not a valid event: {e}"))
            return
        agg = env.subject
        parts = r.subject.split(".")
        if len(parts) != 4 or parts[0] != "foi" or parts[2] != agg or parts[3] != env.name:
            problem(Problem(r.seq, agg, f"subject {r.subject} does not match the event"))
        if self._ring is not None:
            if r.subject.startswith("foi.trust."):
                self._ring.learn(r.seq, r.subject, r.headers, r.data)
            try:
                self._ring.check(r.seq, r.subject, r.headers, r.data, env)
            except Untrusted as e:
                problem(Problem(r.seq, agg, f"writer not proven: {e}"))
        msg_id = r.headers.get("Nats-Msg-Id")
        if msg_id is not None and msg_id != env.id:
            problem(Problem(r.seq, agg, "Nats-Msg-Id does not match the event id"))
        prev_seq, prev_hash = self._heads.get(agg, (None, ""))
        if env.prevhash != prev_hash:
            after = f"the event at seq {prev_seq}" if prev_seq else "nothing (first event)"
            problem(Problem(r.seq, agg, f"hash chain broken: prevhash does not match {after}"))
        self._heads[agg] = (r.seq, sha256_hex(r.data))

    def finish(self) -> Report:
        report = self.report
        report.aggregates = len(self._heads)
        report.root = self._tree.root()
        if self._signed is not None:
            size, root = self._signed
            if report.events < size:
                first = self._last + 1 if self._last < size else report.events + 1
                report.add(Problem(first, None, f"the log holds {report.events} events, the signed"
                                                f" checkpoint {size}: events were removed (the log"
                                                f" ends at seq {self._last})"))  # fmt: skip
            elif (self._signed_root if size else merkle_root([])) != root:
                report.add(Problem(None, None, f"the first {size} events no longer have the signed"
                                               " checkpoint's root: the log was rewritten"))  # fmt: skip
        return report


def verify_records(records: Iterable[Record], *, first_seq: int = 1, root_vkey: str | None = None,
                   signed: tuple[int, str] | None = None) -> Report:  # fmt: skip
    verifier = Verifier(first_seq=first_seq, root_vkey=root_vkey, signed=signed)
    for r in records:
        verifier.add(r)
    return verifier.finish()


# --- export files -----------------------------------------------------------------------------


class ExportWriter:
    """JSON lines, written as the records come: one line per event, then a checkpoint line with
    the size and the Merkle root. Keeps the Merkle tree's subtrees and the set of aggregates."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.report = Report()
        self._tree = MerkleTree()
        self._aggregates: set[str] = set()

    def add(self, r: Record) -> None:
        self.out.write(r.to_json() + "\n")
        self._tree.add(r.data)
        self._aggregates.add(r.subject.split(".")[2] if r.subject.count(".") >= 3 else r.subject)
        self.report.events += 1

    def finish(self) -> Report:
        self.report.root = self._tree.root()
        self.report.aggregates = len(self._aggregates)
        checkpoint = {"checkpoint": {"size": self.report.events, "root": self.report.root}}
        self.out.write(json.dumps(checkpoint) + "\n")
        return self.report


def write_export(path: Path, records: Iterable[Record]) -> Report:
    """Write ``records`` as an export file (see :class:`ExportWriter`)."""
    with path.open("w", encoding="utf-8") as f:
        writer = ExportWriter(f)
        for r in records:
            writer.add(r)
        return writer.finish()


def partial(path: Path) -> Path:
    """Where an export is written until it is complete (then renamed to ``path``)."""
    return path.with_name(path.name + ".partial")


def complete(path: Path) -> None:
    os.replace(partial(path), path)


def read_export(path: Path) -> Iterator[Record | dict[str, Any]]:
    """The export's records one by one, and its checkpoint line (a dict) where it stands."""
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                if "checkpoint" in obj:
                    yield dict(obj["checkpoint"])
                    continue
                yield Record(
                    int(obj["seq"]),
                    obj["subject"],
                    dict(obj.get("headers") or {}),
                    base64.b64decode(obj["data"], validate=True),
                )
            except (ValueError, KeyError, TypeError) as e:
                raise ValueError(f"{path}:{n}: not an export line ({e})") from e


def verify_export(path: Path, root_vkey: str | None = None, signed: tuple[int, str] | None = None) -> Report:
    """Verify an export file in one pass, and its own checkpoint line against the records."""
    verifier = Verifier(root_vkey=root_vkey, signed=signed)
    checkpoint: dict[str, Any] | None = None
    for item in read_export(path):
        if isinstance(item, Record):
            verifier.add(item)
        else:
            checkpoint = item
    report = verifier.finish()
    if checkpoint is None:
        report.add(Problem(None, None, "no checkpoint line: the export is truncated"))
    else:
        if checkpoint.get("size") != report.events:
            report.add(
                Problem(
                    None, None, f"checkpoint says {checkpoint.get('size')} events, file has {report.events}"
                )
            )
        if checkpoint.get("root") != report.root:
            report.add(
                Problem(None, None, "Merkle root differs from the checkpoint: an event's bytes changed")
            )
    return report
