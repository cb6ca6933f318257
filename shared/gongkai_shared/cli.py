"""The ``gongkai`` command line tool: staff users and the audit of the log.

    gongkai users add NAME --role ROLE     print an API token for a staff user
    gongkai audit history CASE_ID          the case's events, in log order, from the stream
    gongkai audit export FILE              the whole log as JSON lines (exact bytes), + checkpoint
    gongkai audit verify [--from FILE] [--checkpoint NOTE --key VKEY]
                                           hash chains, sequence, immutability, a signed checkpoint
    gongkai audit checkpoint [--out FILE]  sign the log's size and Merkle root (Ed25519)
    gongkai audit key                      the verifier key to give auditors
    gongkai calendar load FILE             load a year's holidays and adjusted working days

Errors are a message naming the problem and a non-zero exit, never a stack trace.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import nats

from .audit import Record, check_checkpoint, read_export, verify_export, verify_records, write_export
from .auth import Role, issue_token
from .checkpoint import CheckpointError, Signer
from .checkpoint import verify as verify_checkpoint
from .eventstore import EventStore
from .settings import CliSettings


class CliError(Exception):
    pass


def _secret(settings: CliSettings) -> str:
    if settings.auth_secret:
        return settings.auth_secret
    path = Path(settings.data_dir) / "auth_secret"
    if path.exists():
        return path.read_text().strip()
    raise CliError(f"no signing secret: set GONGKAI_AUTH_SECRET or GONGKAI_DATA_DIR (no {path})")


def users_add(settings: CliSettings, name: str, role: str) -> int:
    try:
        r = Role(role)
    except ValueError:
        raise CliError(f"unknown role {role!r}; roles: {', '.join(x.value for x in Role)}") from None
    if not name.strip():
        raise CliError("the user name must not be empty")
    print(issue_token(_secret(settings), name.strip(), r))
    return 0


async def _store(settings: CliSettings) -> EventStore:
    url = settings.resolved_nats_url()

    async def quiet(_: Exception) -> None:  # errors are reported once, below, not as tracebacks
        return None

    try:
        nc = await nats.connect(
            url,
            name="gongkai-cli",
            connect_timeout=3,
            max_reconnect_attempts=1,
            reconnect_time_wait=0.2,
            error_cb=quiet,
        )
    except Exception as e:  # noqa: BLE001 — nats raises its own NoServersError
        raise CliError(f"cannot reach NATS at {url} ({type(e).__name__}); is `make up` running?") from None
    return EventStore(nc, settings.stream)


async def _all_records(store: EventStore) -> list[Record]:
    return [Record(e.seq, e.subject, e.headers, e.data) async for e in store.read(1)]


async def audit_history(settings: CliSettings, case_id: str) -> int:
    store = await _store(settings)
    try:
        events = await store.history(case_id)
    finally:
        await store.nc.close()
    if not events:
        raise CliError(f"no events for case {case_id}")
    for e in events:
        env = e.envelope
        print(f"{e.seq:>8}  {env.time.isoformat()}  {e.subject}  {env.actorrole}:{env.actor}  {env.id}")
    return 0


async def audit_export(settings: CliSettings, path: Path) -> int:
    store = await _store(settings)
    try:
        records = await _all_records(store)
    finally:
        await store.nc.close()
    report = write_export(path, records)
    print(f"exported {report.events} events of {report.aggregates} aggregates to {path}")
    print(f"checkpoint: size {report.events}, root {report.root}")
    return 0


def _signer(settings: CliSettings) -> Signer:
    """The office's checkpoint key: GONGKAI_CHECKPOINT_KEY, else ``<data dir>/checkpoint_key``."""
    if settings.checkpoint_key:
        return Signer.from_skey(settings.checkpoint_key)
    path = Path(settings.data_dir) / "checkpoint_key"
    if path.exists():
        return Signer.from_skey(path.read_text())
    signer = Signer.generate(settings.checkpoint_origin)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(signer.skey() + "\n")
    return signer


async def audit_checkpoint(settings: CliSettings, out: Path | None) -> int:
    store = await _store(settings)
    try:
        records = await _all_records(store)
    finally:
        await store.nc.close()
    report = verify_records(records)
    if not report.ok:
        raise CliError(f"the log does not verify ({report.problems[0]}): no checkpoint signed")
    note = _signer(settings).sign(settings.checkpoint_origin, report.events, report.root)
    if out is not None:
        out.write_text(note, encoding="utf-8")
    sys.stdout.write(note)
    return 0


async def audit_verify(
    settings: CliSettings, source: Path | None, checkpoint: Path | None = None, vkey: str | None = None
) -> int:
    signed = None
    if checkpoint is not None:
        if not vkey:
            raise CliError("--checkpoint needs --key (the office's verifier key)")
        try:
            signed = verify_checkpoint(checkpoint.read_text(encoding="utf-8"), vkey)
        except (OSError, CheckpointError) as e:
            raise CliError(f"checkpoint {checkpoint}: {e}") from None
    if source is not None:
        if not source.exists():
            raise CliError(f"no such file: {source}")
        try:
            report = verify_export(source)
            records = read_export(source)[0]
        except ValueError as e:
            raise CliError(str(e)) from None
        where = str(source)
    else:
        store = await _store(settings)
        try:
            config = await store.stream_settings()
            records = await _all_records(store)
            report = verify_records(records)
            if report.events != await store.last_seq():
                report.problems.append(_problem("the stream holds fewer events than its last sequence"))
        finally:
            await store.nc.close()
        for flag in ("deny_delete", "deny_purge"):
            if not getattr(config, flag):
                report.problems.append(_problem(f"stream {settings.stream}: {flag} is off"))
        if config.max_age or (config.max_msgs or -1) > 0 or (config.max_bytes or -1) > 0:
            report.problems.append(_problem(f"stream {settings.stream}: a limit could drop history"))
        where = f"stream {settings.stream}"
    if signed is not None:
        report.problems.extend(check_checkpoint(records, signed.size, signed.root))
    for p in report.problems:
        print(f"FAIL {p}")
    if report.ok:
        print(
            f"OK {where}: {report.events} events, {report.aggregates} aggregates, chains intact;"
            f" root {report.root}"
        )
        return 0
    print(f"verification FAILED for {where}: {len(report.problems)} problem(s)", file=sys.stderr)
    return 1


def read_calendar_file(path: Path) -> dict:
    """A year's schedule from JSON or YAML: year, holidays, adjusted_working_days, source.

    Holidays and adjusted working days are dates (``2027-01-01``) or ranges
    (``2027-02-06..2027-02-14``, or ``{from: ..., to: ...}``).
    """
    from datetime import date, timedelta

    if not path.exists():
        raise CliError(f"no such file: {path}")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            raw = yaml.safe_load(text)
        else:
            import json

            raw = json.loads(text)
    except Exception as e:  # noqa: BLE001 — a parse error of either format
        raise CliError(f"{path}: cannot parse ({type(e).__name__}: {e})") from None
    if not isinstance(raw, dict):
        raise CliError(f"{path}: expected a mapping with year, holidays, adjusted_working_days, source")
    missing = [k for k in ("year", "holidays", "source") if k not in raw]
    if missing:
        raise CliError(f"{path}: missing {', '.join(missing)}")
    year = raw["year"]
    if not isinstance(year, int) or not 2000 <= year <= 2200:
        raise CliError(f"{path}: year must be a year, not {year!r}")

    def one(v: object) -> date:
        if isinstance(v, date):
            return v
        try:
            return date.fromisoformat(str(v))
        except ValueError:
            raise CliError(f"{path}: not a date: {v!r}") from None

    def days(field: str) -> list[date]:
        out: list[date] = []
        for item in raw.get(field) or []:
            if isinstance(item, dict):
                a, b = one(item.get("from")), one(item.get("to"))
            elif isinstance(item, str) and ".." in item:
                a, b = (one(x.strip()) for x in item.split("..", 1))
            else:
                a = b = one(item)
            if b < a:
                raise CliError(f"{path}: {field}: range ends before it starts: {item!r}")
            out += [a + timedelta(days=i) for i in range((b - a).days + 1)]
        for d in out:
            if d.year != year:
                raise CliError(f"{path}: {field}: {d} is not in {year}")
        return sorted(set(out))

    holidays, adjusted = days("holidays"), days("adjusted_working_days")
    both = set(holidays) & set(adjusted)
    if both:
        raise CliError(f"{path}: both a holiday and a working day: {', '.join(map(str, sorted(both)))}")
    if not str(raw["source"]).strip():
        raise CliError(f"{path}: source (the notice the schedule comes from) must not be empty")
    return {
        "year": year,
        "holidays": holidays,
        "adjusted_working_days": adjusted,
        "source": str(raw["source"]),
    }


async def calendar_load(settings: CliSettings, path: Path, actor: str) -> int:
    """Append ``calendar-loaded`` to ``calendar-<year>``; notify applies it and recomputes."""
    from .envelope import Actor, derived_id, sha256_hex
    from .events import CalendarLoaded, make_event

    spec = read_calendar_file(path)
    aggregate = f"calendar-{spec['year']}"
    store = await _store(settings)
    try:
        history = [e for e in await store.history(aggregate) if e.name == "calendar-loaded"]
        if history:
            last = history[-1].envelope.data
            same = (
                last["holidays"] == [d.isoformat() for d in spec["holidays"]]
                and last["adjusted_working_days"] == [d.isoformat() for d in spec["adjusted_working_days"]]
                and last["source"] == spec["source"]
            )
            if same:
                print(
                    f"calendar {spec['year']} revision {last.get('revision', 1)} is already loaded;"
                    " nothing to do"
                )
                return 0
        revision = len(history) + 1
        body = CalendarLoaded(revision=revision, **spec)
        event = make_event(
            body,
            aggregate_id=aggregate,
            actor=Actor(id=actor, role="admin"),
            event_id=derived_id(
                aggregate, f"revision:{revision}:{sha256_hex(body.model_dump_json().encode())}"
            ),
        )
        last_event = await store.last_event(aggregate)
        stored = await store.append(event, "notify", last_event.seq if last_event else 0)
    finally:
        await store.nc.close()
    print(
        f"loaded calendar {spec['year']} revision {revision}: {len(spec['holidays'])} holidays,"
        f" {len(spec['adjusted_working_days'])} adjusted working days (sequence {stored.seq});"
        " notify recomputes the open deadlines"
    )
    return 0


def _problem(message: str):  # noqa: ANN202
    from .audit import Problem

    return Problem(None, None, message)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gongkai", description="Gongkai 政府信息公开 tools")
    sub = parser.add_subparsers(dest="group", required=True)
    users = sub.add_parser("users", help="staff users").add_subparsers(dest="cmd", required=True)
    add = users.add_parser("add", help="print an API token for a staff user")
    add.add_argument("name")
    add.add_argument("--role", required=True, help=", ".join(r.value for r in Role))
    audit = sub.add_parser("audit", help="the log, for auditors").add_subparsers(dest="cmd", required=True)
    audit.add_parser("history", help="a case's events from the stream").add_argument("case_id")
    audit.add_parser("export", help="the whole log as JSON lines").add_argument("file", type=Path)
    verify = audit.add_parser("verify", help="check hash chains and immutability")
    verify.add_argument("--from", dest="source", type=Path, default=None, help="an export file")
    verify.add_argument("--checkpoint", type=Path, default=None, help="a signed checkpoint you hold")
    verify.add_argument("--key", default=None, help="the office's verifier key (gongkai audit key)")
    cp = audit.add_parser("checkpoint", help="sign a checkpoint of the log (Ed25519, C2SP note)")
    cp.add_argument("--out", type=Path, default=None)
    audit.add_parser("key", help="print the verifier key auditors use for checkpoints")
    schemas = sub.add_parser("events", help="the event catalogue").add_subparsers(dest="cmd", required=True)
    schemas.add_parser("asyncapi", help="print the AsyncAPI 3.0 document of every event")
    cal = sub.add_parser("calendar", help="the working-day calendar").add_subparsers(
        dest="cmd", required=True
    )
    load = cal.add_parser("load", help="load a year's schedule (JSON or YAML) from the published notice")
    load.add_argument("file", type=Path)
    load.add_argument("--actor", default="operator", help="who loads it (recorded in the event)")
    args = parser.parse_args(argv)
    settings = CliSettings()
    try:
        if args.group == "events":
            from .catalogue import asyncapi_json

            sys.stdout.write(asyncapi_json())
            return 0
        if args.group == "calendar":
            return asyncio.run(calendar_load(settings, args.file, args.actor))
        if args.group == "users":
            return users_add(settings, args.name, args.role)
        if args.cmd == "history":
            return asyncio.run(audit_history(settings, args.case_id))
        if args.cmd == "export":
            return asyncio.run(audit_export(settings, args.file))
        if args.cmd == "checkpoint":
            return asyncio.run(audit_checkpoint(settings, args.out))
        if args.cmd == "key":
            print(_signer(settings).vkey())
            return 0
        return asyncio.run(audit_verify(settings, args.source, args.checkpoint, args.key))
    except (CliError, CheckpointError) as e:
        print(f"gongkai: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"gongkai: {e}", file=sys.stderr)
        return 2


def run() -> None:
    """Console script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
