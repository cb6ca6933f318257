"""The ``gongkai`` command line tool: staff users, the operator's tasks and the audit of the log.

:data:`COMMANDS` below is the list of every command, its arguments and the function that runs
it (one module per group in ``commands/``). Credentials come from the environment
(GONGKAI_NATS_USER/PASSWORD, GONGKAI_ROOT_SIGNING_KEY, GONGKAI_ROOT_KEY) or, on the embedded
runtime, from ``$GONGKAI_DATA_DIR/secrets``. Reading the log uses the read-only ``auditor``
user; only the operator's commands use ``admin``. Errors are a message naming the problem and
exit status 2, never a stack trace; a log that does not verify is exit status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from nats.errors import Error as NatsError

from gongkai_shared.access import SERVICES
from gongkai_shared.auth import Role
from gongkai_shared.checkpoint import CheckpointError

from .commands import agencies, audit, calendar, events, keys, nats, projections, proofs, report, setup, users
from .settings import CliError, CliSettings

Run = Callable[[CliSettings, argparse.Namespace], int | Coroutine[Any, Any, int]]


def arg(*names: str, **options: Any) -> tuple[tuple[str, ...], dict[str, Any]]:
    """One argument, as ``argparse.ArgumentParser.add_argument`` takes it."""
    return names, options


@dataclass(frozen=True)
class Command:
    words: str  # "group" or "group command"
    run: Run
    help: str
    args: list[tuple[tuple[str, ...], dict[str, Any]]] = field(default_factory=list)


GROUPS = {
    "users": "staff accounts (through review's API)",
    "audit": "the log, for auditors",
    "events": "the event catalogue",
    "calendar": "the working-day calendar",
    "stream": "operator: the FOI stream",
    "keys": "the services' event-signing keys",
    "nats": "the broker's configuration",
    "agencies": "other agencies",
    "report": "the statutory annual report (政府信息公开工作年度报告)",
    "projections": "operator: a service's projections rebuilt from the log",
}

ROLES = ", ".join(r.value for r in Role)
PROJECTION_ARGS = [
    arg("--timeout", type=float, default=600.0, help="seconds the replay may take"),
    arg("--url", default=None, help="the service's own address (default: the operator listener)"),
    arg("--json", action="store_true"),
]

COMMANDS = [
    Command("users add", users.add, "add a staff account; prints an API token for it", [
        arg("login"),
        arg("--role", action="append", required=True, help=ROLES),
        arg("--name", help="display name (default: the login)"),
        arg("--department", help="the department of a handler (承办部门)"),
        arg("--password-stdin", action="store_true", help="read a sign-in password from stdin"),
        arg("--days", type=int, default=30, help="the API token's lifetime"),
    ]),
    Command("users list", users.list_users, "every staff account"),
    Command("users disable", users.disable, "disable an account: its tokens stop working",
            [arg("login"), arg("--reason", required=True)]),
    Command("users grant", users.grant, "grant a role", [arg("login"), arg("role")]),
    Command("users revoke", users.revoke, "revoke a role", [arg("login"), arg("role")]),
    Command("users password", users.password, "set a sign-in password (read from stdin)", [arg("login")]),
    Command("users token", users.token, "print an API token for a machine client",
            [arg("login"), arg("--days")]),
    Command("audit history", audit.history,
            "a case's whole trail: its events and those that follow from it, each checked", [
        arg("case_id"),
        arg("--json", action="store_true", help="the trail as JSON"),
    ]),
    Command("audit replay", audit.replay, "a case as it stood at a time, folded from its events", [
        arg("case_id"),
        arg("--as-of", default=None, help="ISO 8601 time (without an offset: Beijing time)"),
        arg("--seq", type=int, default=None, help="log position: the case's events up to it"),
        arg("--json", action="store_true", help="the replay as JSON"),
    ]),
    Command("audit export", audit.export, "the whole log as JSON lines", [arg("file", type=Path)]),
    Command("audit verify", audit.verify, "check hash chains and immutability", [
        arg("--from", dest="source", type=Path, default=None, help="an export file"),
        arg("--checkpoint", default=None, help="a signed checkpoint you hold (a file), or latest"),
        arg("--key", default=None, help="the office's verifier key (default: the keys in the log)"),
    ]),
    Command("audit checkpoint", audit.checkpoint, "sign a checkpoint of the log (Ed25519, C2SP note)", [
        arg("--out", type=Path, default=None),
        arg("--publish", action="store_true", help="store it where auditors fetch it (the job)"),
    ]),
    Command("audit key", audit.key, "print the verifier key auditors use for checkpoints"),
    Command("audit proof", proofs.proof, "an RFC 9162 proof, with the published checkpoint", [
        arg("kind", choices=["inclusion", "consistency"]),
        arg("--seq", type=int, help="inclusion: the event's stream sequence"),
        arg("--size", type=int, default=None, help="inclusion: the tree size (default: latest checkpoint)"),
        arg("--from", dest="first", type=int, help="consistency: the older tree size"),
        arg("--to", type=int, default=None, help="consistency: the newer (default: latest checkpoint)"),
    ]),
    Command("audit keys", proofs.list_keys, "the checkpoint keys in the log and their validity"),
    Command("audit register-key", proofs.register_key, "register a checkpoint key (root key)", [
        arg("--vkey", default=None, help="default: this installation's checkpoint key"),
        arg("--valid-until", type=datetime.fromisoformat, default=None, help="ISO 8601, informative"),
    ]),
    Command("audit retire-key", proofs.retire_key, "end a checkpoint key's validity (root key)",
            [arg("key", help="<name>+<hex id>"), arg("--reason", required=True)]),
    Command("audit rotate-key", proofs.rotate_key,
            "embedded runtime: a new checkpoint key, registered; the old one retired",
            [arg("--reason", default="rotated")]),
    Command("report annual", report.annual, "the annual report (国办公开办函〔2021〕30号) from the log", [
        arg("--agency", required=True, help="the agency the report is for (its name, as printed)"),
        arg("--year", type=int, required=True),
        arg("--at", type=int, default=None, help="the log position to compute at (default: the end)"),
        arg("--format", choices=report.FORMATS, default=None, help="default: the output's suffix, else json"),
        arg("--output", "-o", type=Path, default=None, help="a file (default: standard output)"),
    ]),
    Command("events asyncapi", events.asyncapi, "print the AsyncAPI 3.0 document of every event",
            [arg("--public", action="store_true",
                 help="only the public events other agencies receive (docs/events/public-asyncapi.json)")]),
    Command("calendar load", calendar.load,
            "load a year's schedule (JSON or YAML) from the published notice", [
        arg("file", type=Path),
        arg("--actor", default="operator", help="who loads it (recorded in the event)"),
    ]),
    Command("setup", setup.setup, "operator: create the stream and register the signing keys", [
        arg("--key", action="append", default=[], metavar="SERVICE=VKEY", help="a service's verifier key"),
        arg("--replicas", type=int, default=1),
    ]),
    Command("stream create", setup.stream_create,
            "create the stream or restore its immutable settings (admin)",
            [arg("--replicas", type=int, default=1)]),
    Command("keys list", keys.list_keys, "registered keys and their validity, from the log"),
    Command("keys register", keys.register, "register a service's verifier key (root key)",
            [arg("service"), arg("vkey")]),
    Command("keys revoke", keys.revoke, "revoke a key: what it signs after this is refused (root key)", [
        arg("key", help="<name>+<hex id> as `gongkai keys list` shows it"),
        arg("--reason", required=True),
    ]),
    Command("keys rotate", keys.rotate, "embedded runtime: a new key for a service, registered",
            [arg("service")]),
    Command("keys generate", keys.generate, "print a new signing key and its verifier key",
            [arg("name", help="a service, or root")]),
    Command("nats helm-values", nats.helm, "the NATS accounts as values for the official Helm chart",
            [arg("--agency", action="append", default=[], metavar="NAME", help="an agency (repeat)")]),
    Command("agencies add", agencies.add, "credentials and a durable consumer of the public events",
            [arg("name")]),
    Command("projections check", projections.check,
            "rebuild a service's projections aside and report every difference (exit 1 if any)",
            [arg("service", choices=SERVICES), *PROJECTION_ARGS]),
    Command("projections rebuild", projections.rebuild,
            "rebuild a service's projections from sequence 1 and swap them in without downtime", [
        arg("service", choices=SERVICES), *PROJECTION_ARGS,
        arg("--drop-old", action="store_true", help="drop the replaced tables (no rollback to them)"),
    ]),
    Command("projections drop-old", projections.drop_old,
            "drop the tables earlier rebuilds replaced (kept for a rollback until then)",
            [arg("service", choices=SERVICES), *PROJECTION_ARGS[1:]]),
]  # fmt: skip


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="gongkai", description="Gongkai 政府信息公开 tools")
    groups = top.add_subparsers(dest="group", required=True)
    subcommands: dict[str, Any] = {}
    for command in COMMANDS:
        group, _, name = command.words.partition(" ")
        if name:
            if group not in subcommands:
                subcommands[group] = groups.add_parser(group, help=GROUPS[group]).add_subparsers(
                    dest="cmd", required=True
                )
            p = subcommands[group].add_parser(name, help=command.help)
        else:
            p = groups.add_parser(group, help=command.help)
        for names, options in command.args:
            p.add_argument(*names, **options)
        p.set_defaults(run=command.run)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        done = args.run(CliSettings(), args)
        return asyncio.run(done) if inspect.iscoroutine(done) else done
    except (CliError, CheckpointError, OSError) as e:
        print(f"gongkai: {e}", file=sys.stderr)
        return 2
    except NatsError as e:  # the broker refused or did not answer: said, never a stack trace
        print(f"gongkai: NATS: {type(e).__name__}: {e}", file=sys.stderr)
        return 2


def run() -> None:
    """Console script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
