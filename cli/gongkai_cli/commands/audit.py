"""``gongkai audit``: the log, for auditors (the read-only ``auditor`` NATS user).

Export, verify and checkpoint read the stream once, in order, a batch at a time (logreader.py),
and never hold it: each record is written or checked as it arrives (verification.py), so memory
does not grow with the length of the log.
"""

from __future__ import annotations

import json
import sys
from argparse import Namespace
from pathlib import Path

from gongkai_shared.checkpoint import CheckpointError
from gongkai_shared.checkpoint import verify as verify_checkpoint
from gongkai_shared.eventstore import EventStore
from gongkai_shared.tlog import latest_checkpoint, load_checkpoint_keys

from .. import casetrail, connections, credentials
from ..logreader import read_log
from ..settings import CliError, CliSettings
from ..verification import ExportWriter, Problem, Record, Report, Verifier, complete, partial, verify_export
from . import proofs


async def history(settings: CliSettings, args: Namespace) -> int:
    """A case's whole trail, in log order: its own events and the events of other aggregates that
    name it (casetrail.py), each with its writer's signature status and its hash link, checked
    here with the root verifier key. Exit 1 if any event fails a check."""
    root_vkey = credentials.root_vkey(settings)
    store = await connections.store(settings)
    try:
        entries = await casetrail.trail(store, settings, args.case_id, root_vkey)
    finally:
        await store.nc.close()
    if not entries:
        raise CliError(f"no events for case {args.case_id}")
    if args.json:
        print(json.dumps([e.as_dict() for e in entries], ensure_ascii=False, indent=2))
    else:
        for e in entries:
            print(casetrail.trail_line(e))
    bad = [e for e in entries if e.signature != "ok" or e.hash_link != "ok"]
    for e in bad:
        print(f"FAIL seq {e.seq}: signature {e.signature} ({e.signature_problem or '-'}),"
              f" hash link {e.hash_link}", file=sys.stderr)  # fmt: skip
    return 1 if bad else 0


async def replay(settings: CliSettings, args: Namespace) -> int:
    """The case as it stood at ``--as-of`` (or at log position ``--seq``), folded from its events
    by review's own code (``GET /api/v1/audit/cases/{id}/replay``, an auditor's token)."""
    when = casetrail.as_of(args.as_of)
    view = await casetrail.replay(settings, args.case_id, when, args.seq)
    print(json.dumps(view, ensure_ascii=False, indent=2) if args.json else casetrail.render(view))
    return 0


async def export(settings: CliSettings, args: Namespace) -> int:
    """The whole log as JSON lines (exact bytes) and a checkpoint line, written as it is read;
    the file appears under its name only once it is complete."""
    path: Path = args.file
    store = await connections.store(settings)
    try:
        with partial(path).open("w", encoding="utf-8") as f:
            writer = ExportWriter(f)
            async for e in read_log(store):
                writer.add(Record(e.seq, e.subject, e.headers, e.data))
            report = writer.finish()
        complete(path)
    except BaseException:
        partial(path).unlink(missing_ok=True)
        raise
    finally:
        await store.nc.close()
    print(f"exported {report.events} events of {report.aggregates} aggregates to {path}")
    print(f"checkpoint: size {report.events}, root {report.root}")
    return 0


async def verify_stream(store: EventStore, verifier: Verifier) -> Report:
    """Feed the stream, from sequence 1 to its last one now, to ``verifier``."""
    end = await store.last_seq()
    async for e in read_log(store, 1, end):
        verifier.add(Record(e.seq, e.subject, e.headers, e.data))
    report = verifier.finish()
    if report.events != end:
        report.add(Problem(None, None, "the stream holds fewer events than its last sequence"))
    return report


async def checkpoint(settings: CliSettings, args: Namespace) -> int:
    """Sign the log's size and Merkle root (Ed25519, C2SP note), once it verifies."""
    root_vkey = credentials.root_vkey(settings)
    store = await connections.store(settings)
    try:
        report = await verify_stream(store, Verifier(root_vkey=root_vkey))
    finally:
        await store.nc.close()
    if not report.ok:
        raise CliError(f"the log does not verify ({report.problems[0]}): no checkpoint signed")
    note = credentials.checkpoint_signer(settings).sign(
        settings.checkpoint_origin, report.events, report.root
    )
    if args.out is not None:
        args.out.write_text(note, encoding="utf-8")
    sys.stdout.write(note)
    if getattr(args, "publish", False):
        seq = await proofs.publish(settings, note)
        print(f"published checkpoint of size {report.events} (CHECKPOINTS seq {seq})", file=sys.stderr)
    return 0


def key(settings: CliSettings, args: Namespace) -> int:
    """The verifier key auditors check checkpoints with."""
    print(credentials.checkpoint_signer(settings).vkey())
    return 0


async def verify(settings: CliSettings, args: Namespace) -> int:
    """Hash chains, sequence, signatures and immutability, of the stream or of an export file
    (``--from``), and against a signed checkpoint the auditor holds (``--checkpoint --key``)."""
    source: Path | None = args.source
    signed = None
    root_vkey = credentials.root_vkey(settings)
    if args.checkpoint is not None:
        signed = await held_checkpoint(settings, args.checkpoint, args.key, root_vkey)
    if source is not None:
        if not source.exists():
            raise CliError(f"no such file: {source}")
        try:
            report = verify_export(source, root_vkey, signed)
        except ValueError as e:
            raise CliError(str(e)) from None
        where = str(source)
    else:
        store = await connections.store(settings)
        try:
            config = await store.stream_settings()
            report = await verify_stream(store, Verifier(root_vkey=root_vkey, signed=signed))
        finally:
            await store.nc.close()
        for flag in ("deny_delete", "deny_purge"):
            if not getattr(config, flag):
                report.add(Problem(None, None, f"stream {settings.stream}: {flag} is off"))
        if config.max_age or (config.max_msgs or -1) > 0 or (config.max_bytes or -1) > 0:
            report.add(Problem(None, None, f"stream {settings.stream}: a limit could drop history"))
        where = f"stream {settings.stream}"
    for p in report.problems:
        print(f"FAIL {p}")
    if report.omitted:
        print(f"FAIL … and {report.omitted} more problem(s), not listed")
    if report.first_broken is not None:
        print(f"FIRST BROKEN POSITION: seq {report.first_broken}")
    if report.ok:
        print(
            f"OK {where}: {report.events} events, {report.aggregates} aggregates, chains intact;"
            f" root {report.root}"
        )
        return 0
    print(f"verification FAILED for {where}: {report.problem_count} problem(s)", file=sys.stderr)
    return 1


async def held_checkpoint(
    settings: CliSettings, where: str, vkey: str | None, root_vkey: str
) -> tuple[int, str]:
    """(size, root) of the checkpoint the auditor holds: a note file, or ``latest``, the last
    one published. Verified with ``vkey``, else with the checkpoint keys the root registered in
    the log, each only for the tree sizes of its validity."""
    store = await connections.store(settings)
    try:
        if where == "latest":
            text = await latest_checkpoint(store.js)
            if text is None:
                raise CliError("no checkpoint was ever published (gongkai audit checkpoint --publish)")
        else:
            try:
                text = Path(where).read_text(encoding="utf-8")
            except OSError as e:
                raise CliError(f"checkpoint {where}: {e}") from None
        try:
            if vkey:
                note = verify_checkpoint(text, vkey)
            else:
                note, _ = (await load_checkpoint_keys(store, root_vkey)).verify(text)
        except CheckpointError as e:
            raise CliError(f"checkpoint {where}: {e}") from None
    finally:
        await store.nc.close()
    return note.size, note.root
