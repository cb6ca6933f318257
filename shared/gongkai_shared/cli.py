"""The ``gongkai`` command line tool: staff users, the operator's tasks and the audit of the log.

    gongkai users add NAME --role ROLE     print an API token for a staff user
    gongkai setup                          create the stream, register the services' signing keys
    gongkai stream create [--replicas N]   create the FOI stream or restore its settings (admin)
    gongkai keys list|register|revoke|rotate
                                           the services' event-signing keys, in the log
    gongkai keys generate SERVICE|root     print a new signing key and its verifier key
    gongkai agencies add NAME              NATS credentials and a durable consumer for an agency
    gongkai nats helm-values [--agency NAME ...]
                                           the NATS accounts as Helm values (Kubernetes)
    gongkai audit history CASE_ID          the case's events, in log order, from the stream
    gongkai audit export FILE              the whole log as JSON lines (exact bytes), + checkpoint
    gongkai audit verify [--from FILE] [--checkpoint NOTE --key VKEY]
                                           hash chains, sequence, signatures, immutability
    gongkai audit checkpoint [--out FILE]  sign the log's size and Merkle root (Ed25519)
    gongkai audit key                      the verifier key to give auditors
    gongkai calendar load FILE             load a year's holidays (through notify's API)

Credentials come from the environment (GONGKAI_NATS_USER/PASSWORD, GONGKAI_ROOT_SIGNING_KEY,
GONGKAI_ROOT_KEY) or, on the embedded runtime, from ``$GONGKAI_DATA_DIR/secrets``. Reading the
log uses the read-only ``auditor`` user; only the operator's commands use ``admin``.
Errors are a message naming the problem and a non-zero exit, never a stack trace.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from .access import ADMIN, AUDITOR, NATS_SECRET, SERVICES, agency_durable, agency_user, check_agency_name
from .audit import Record, check_checkpoint, read_export, verify_export, verify_records, write_export
from .auth import Role, operator_token
from .checkpoint import CheckpointError, Signer
from .checkpoint import verify as verify_checkpoint
from .eventstore import EventStore, connect
from .installation import Installation
from .settings import CliSettings, weak_secret
from .trust import TRUST, EventSigner, key_ref, load_ring, register_key, revoke_key


class CliError(Exception):
    pass


def _install(settings: CliSettings) -> Installation:
    return Installation(Path(settings.data_dir))


def _secret(settings: CliSettings) -> str:
    if settings.auth_secret:
        return settings.auth_secret
    install = _install(settings)
    if (install.dir / "auth.secret").exists() or (install.data_dir / "auth_secret").exists():
        return install.auth_secret()
    raise CliError(f"no signing secret: set GONGKAI_AUTH_SECRET or GONGKAI_DATA_DIR (none in {install.dir})")


def _password(settings: CliSettings, user: str) -> str:
    if settings.nats_password:
        # outside the embedded runtime the password comes from a Secret: a placeholder left in
        # it would also be what the broker accepts, so it is refused here as the services do
        if problem := weak_secret(settings.nats_password):
            raise CliError(f"GONGKAI_NATS_PASSWORD {problem} (docs/security.md)")
        return settings.nats_password
    path = _install(settings).dir / f"nats-{user}.password"
    if not path.exists():
        raise CliError(f"no NATS password for {user}: set GONGKAI_NATS_PASSWORD or GONGKAI_DATA_DIR")
    return path.read_text().strip()


def _root(settings: CliSettings) -> Signer:
    """The operator's root key: GONGKAI_ROOT_SIGNING_KEY, else the data folder's."""
    if settings.root_signing_key:
        return Signer.from_skey(settings.root_signing_key)
    path = _install(settings).dir / "root.key"
    if not path.exists():
        raise CliError("no root key: set GONGKAI_ROOT_SIGNING_KEY or GONGKAI_DATA_DIR")
    return Signer.from_skey(path.read_text())


def _root_vkey(settings: CliSettings) -> str:
    if settings.root_key:
        return settings.root_key
    if settings.root_signing_key or (_install(settings).dir / "root.key").exists():
        return _root(settings).vkey()
    raise CliError("no root verifier key: set GONGKAI_ROOT_KEY (or GONGKAI_DATA_DIR)")


async def _api(settings: CliSettings, method: str, path: str, body: dict | None = None) -> Any:
    """Call a service's API as the operator (a short token minted from the staff-token key)."""
    import httpx

    base = _service_url(settings)
    token = operator_token(_secret(settings))
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            r = await client.request(
                method, f"{base}{path}", json=body, headers={"Authorization": f"Bearer {token}"}
            )
    except httpx.HTTPError as e:
        raise CliError(f"cannot reach {base} ({type(e).__name__}); is `make up` running?") from None
    if r.status_code >= 400:
        try:
            detail = r.json()
            message = detail.get("message", detail)
            if detail.get("errors"):
                message = f"{message}: " + "; ".join(
                    f"{e['field']}: {e['message']}" for e in detail["errors"]
                )
        except (ValueError, AttributeError):
            message = r.text
        raise CliError(f"{method} {path}: {r.status_code} {message}")
    return r.json()


def _roles(names: list[str]) -> list[str]:
    for role in names:
        if role not in {r.value for r in Role}:
            raise CliError(f"unknown role {role!r}; roles: {', '.join(x.value for x in Role)}")
    return names


async def _user_id(settings: CliSettings, login: str) -> str:
    users = (await _api(settings, "GET", "/api/v1/users"))["items"]
    for u in users:
        if u["login"] == login:
            return u["user_id"]
    raise CliError(f"no staff account {login!r} (gongkai users list)")


async def users_add(settings: CliSettings, login: str, roles: list[str], name: str | None,
                    department: str | None, password: str | None, days: int) -> int:  # fmt: skip
    """Add the account through review's API and print an API token for it (``days`` long)."""
    if not login.strip():
        raise CliError("the login must not be empty")
    body = {"login": login.strip(), "display_name": (name or login).strip(), "roles": _roles(roles),
            "department": department, "password": password}  # fmt: skip
    user = await _api(settings, "POST", "/api/v1/users", body)
    token = await _api(settings, "POST", f"/api/v1/users/{user['user_id']}/tokens", {"days": days})
    print(token["token"])
    return 0


async def users_list(settings: CliSettings) -> int:
    for u in (await _api(settings, "GET", "/api/v1/users"))["items"]:
        state = "disabled" if u["disabled"] else "active"
        roles, department = ",".join(u["roles"]), u["department"] or "-"
        print(f"{u['login']:<16} {u['display_name']:<12} {roles:<28} {department:<12} {state} {u['user_id']}")
    return 0


async def users_change(settings: CliSettings, action: str, login: str, value: str | None) -> int:
    user_id = await _user_id(settings, login)
    if action == "disable":
        await _api(settings, "POST", f"/api/v1/users/{user_id}/disable", {"reason": value})
    elif action == "grant":
        await _api(settings, "POST", f"/api/v1/users/{user_id}/roles", {"role": _roles([value or ""])[0]})
    elif action == "revoke":
        await _api(settings, "DELETE", f"/api/v1/users/{user_id}/roles/{_roles([value or ''])[0]}")
    elif action == "password":
        await _api(settings, "POST", f"/api/v1/users/{user_id}/password", {"password": value})
    elif action == "token":
        print(
            (await _api(settings, "POST", f"/api/v1/users/{user_id}/tokens", {"days": int(value or 30)}))[
                "token"
            ]
        )
        return 0
    print(f"{login}: {action} done")
    return 0


async def _store(settings: CliSettings, user: str = AUDITOR, root: Signer | None = None) -> EventStore:
    """A connection as ``user`` (the read-only auditor unless an operator's command needs admin)."""
    url = settings.resolved_nats_url()
    user = settings.nats_user or user

    async def quiet(_: Exception) -> None:  # errors are reported once, below, not as tracebacks
        return None

    try:
        nc = await connect(
            url,
            "gongkai-cli",
            user=user,
            password=_password(settings, user),
            connect_timeout=3,
            max_reconnect_attempts=1,
            reconnect_time_wait=0.2,
            error_cb=quiet,
        )
    except CliError:
        raise
    except Exception as e:  # noqa: BLE001 — nats raises its own NoServersError
        raise CliError(
            f"cannot reach NATS at {url} as {user} ({e or type(e).__name__}); is `make up` running?"
        ) from None
    return EventStore(nc, settings.stream, EventSigner(TRUST, root) if root else None)


async def _admin(settings: CliSettings) -> EventStore:
    return await _store(settings, ADMIN, _root(settings))


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
    report = verify_records(records, root_vkey=_root_vkey(settings))
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
    root_vkey = _root_vkey(settings)
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
            report = verify_export(source, root_vkey)
            records = read_export(source)[0]
        except ValueError as e:
            raise CliError(str(e)) from None
        where = str(source)
    else:
        store = await _store(settings)
        try:
            config = await store.stream_settings()
            records = await _all_records(store)
            report = verify_records(records, root_vkey=root_vkey)
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


# --- the operator's tasks (administrator credential, root key) ------------------------------------


async def setup(settings: CliSettings, keys: list[str], replicas: int) -> int:
    """Stream and signing keys: ``SERVICE=VKEY`` pairs, else the data folder's keys."""
    from .operator import setup as run_setup

    vkeys = dict(_pair(k) for k in keys)
    if not vkeys:
        install = _install(settings)
        missing = [s for s in SERVICES if not (install.dir / f"signing-{s}.key").exists()]
        if missing:
            raise CliError(f"no signing key for {', '.join(missing)}: give --key SERVICE=VKEY")
        vkeys = {s: Signer.from_skey(install.signing_key(s)).vkey() for s in SERVICES}
    root_vkey = _checked_root_vkey(settings)
    store = await _admin(settings)
    try:
        added = await run_setup(store, root_vkey, vkeys, [], replicas)
    finally:
        await store.nc.close()
    print(
        f"stream {settings.stream} ready; {len(added)} key(s) registered"
        + (f": {', '.join(added)}" if added else "")
    )
    return 0


def _pair(text: str) -> tuple[str, str]:
    service, sep, vkey = text.partition("=")
    if not sep or service not in SERVICES:
        raise CliError(f"--key {text!r}: expected SERVICE=VKEY with SERVICE one of {', '.join(SERVICES)}")
    try:
        key_ref(vkey)  # a placeholder left in the ConfigMap is named before anything is written
    except CheckpointError as e:
        raise CliError(f"--key {service}=…: not a verifier key ({e}); see gongkai keys generate") from None
    return service, vkey


def _checked_root_vkey(settings: CliSettings) -> str:
    """The root key's verifier key, which must be GONGKAI_ROOT_KEY when that is set too: services
    trusting another root would refuse every key registered here."""
    vkey = _root(settings).vkey()
    if settings.root_key and settings.root_key.strip() != vkey:
        raise CliError(
            "GONGKAI_ROOT_KEY is not the verifier key of GONGKAI_ROOT_SIGNING_KEY: the services would"
            f" not trust what this registers; the root signing key's verifier key is {vkey}"
        )
    return vkey


async def stream_create(settings: CliSettings, replicas: int) -> int:
    store = await _store(settings, ADMIN)
    try:
        await store.ensure_stream(replicas)
        await store.check_stream()
    finally:
        await store.nc.close()
    print(f"stream {settings.stream}: every event kept, nothing deletes or purges history")
    return 0


async def keys_list(settings: CliSettings) -> int:
    store = await _store(settings)
    try:
        ring = await load_ring(store, _root_vkey(settings))
    finally:
        await store.nc.close()
    print(f"root  {_root_vkey(settings)}")  # the verifier key every service and auditor needs
    for key in ring.keys.values():
        d = key.describe()
        state = f"revoked at seq {d['revoked_at_seq']}" if d["revoked_at_seq"] else "active"
        print(f"{d['service']:<11} {d['key']}  registered at seq {d['registered_at_seq']}, {state}")
    return 0


async def keys_register(settings: CliSettings, service: str, vkey: str) -> int:
    if service not in SERVICES:
        raise CliError(f"unknown service {service!r}; services: {', '.join(SERVICES)}")
    try:
        key_ref(vkey)
    except CheckpointError as e:
        raise CliError(f"{vkey!r}: {e}") from None
    store = await _admin(settings)
    try:
        stored = await register_key(store, service, vkey)
    finally:
        await store.nc.close()
    print(f"registered {key_ref(vkey)} for {service} at seq {stored.seq}")
    return 0


async def keys_revoke(settings: CliSettings, ref: str, reason: str) -> int:
    store = await _admin(settings)
    try:
        ring = await load_ring(store, _root(settings).vkey())
        if ref not in ring.keys:
            raise CliError(f"no registered key {ref} (gongkai keys list)")
        stored = await revoke_key(store, ref, reason)
    finally:
        await store.nc.close()
    print(f"revoked {ref} at seq {stored.seq}: events it signs after this are refused")
    return 0


async def keys_rotate(settings: CliSettings, service: str) -> int:
    """Embedded runtime: a new key file for ``service``, registered; the old one stays valid
    until revoked, so events signed before the service restarts still verify."""
    if service not in SERVICES:
        raise CliError(f"unknown service {service!r}; services: {', '.join(SERVICES)}")
    install = _install(settings)
    old = Signer.from_skey(install.signing_key(service)).vkey()
    new = Signer.from_skey(install.rotate_signing_key(service)).vkey()
    await keys_register(settings, service, new)
    print(
        f"restart {service} (or `make up`) to sign with it, then:"
        f" gongkai keys revoke {key_ref(old)} --reason rotated"
    )
    return 0


async def agencies_add(settings: CliSettings, name: str) -> int:
    """Credentials for another agency (read-only, public events) and its durable consumer.

    On the embedded runtime the password is generated into the data folder and nats-server
    reloads its accounts. Elsewhere (Kubernetes) the broker's accounts come from the Helm values
    and the password from the Secret gongkai-nats, so only the consumer is created here."""
    from .operator import ensure_agency_consumer

    try:
        check_agency_name(name)
    except ValueError as e:
        raise CliError(str(e)) from None
    install = _install(settings)
    embedded = (install.data_dir / "nats-server.conf").exists()
    password = install.add_agency(name) if embedded else None
    if embedded:
        _reload_embedded_nats(install)
    store = await _store(settings, ADMIN)
    try:
        await ensure_agency_consumer(store, name)
    finally:
        await store.nc.close()
    if password is not None:
        print(f"agency {name}: NATS user {agency_user(name)}, password {password}")
    else:
        print(
            f"agency {name}: NATS user {agency_user(name)}; its password is key {agency_user(name)} of"
            f" Secret {NATS_SECRET}, and the user exists once the accounts are rendered with"
            f" `gongkai nats helm-values --agency {name} …` and applied with `helm upgrade`"
        )
    print(
        f"  durable consumer {agency_durable(name)} on stream {settings.stream}:"
        " the public events, from the first"
    )
    print(f"  connect with inbox prefix _INBOX_{agency_user(name)}; see docs/security.md")
    return 0


def _reload_embedded_nats(install: Installation) -> None:
    """Rewrite the embedded nats-server's accounts and have it reload them (SIGHUP)."""
    import os
    import signal

    from .access import with_accounts

    conf, pid = install.data_dir / "nats-server.conf", install.data_dir / "nats-server.pid"
    if not conf.exists():
        print("  not the embedded runtime: add the agency to the NATS accounts (docs/security.md)")
        return
    conf.write_text(with_accounts(conf.read_text(), install.credentials()))
    if pid.exists():
        try:
            os.kill(int(pid.read_text().strip()), signal.SIGHUP)
        except (ValueError, ProcessLookupError):
            pass  # not running: it reads the new configuration when it starts


def keys_generate(name: str) -> int:
    """A new Ed25519 key for a service (or the root): the signing key on the first line, its
    verifier key on the second, where each goes on stderr. Nothing is registered."""
    from .installation import signing_key_name

    if name not in (*SERVICES, "root"):
        raise CliError(f"unknown service {name!r}; one of {', '.join(SERVICES)} or root")
    signer = Signer.generate(signing_key_name(name))
    print(signer.skey())
    print(signer.vkey())
    if name == "root":
        where = (
            "line 1: the root signing key (secret: Secret gongkai-root, GONGKAI_ROOT_SIGNING_KEY; keep"
            " it offline); line 2: its verifier key (public: GONGKAI_ROOT_KEY in ConfigMap gongkai-config)"
        )
    else:
        where = (
            f"line 1: {name}'s signing key (secret: Secret gongkai-signing, key {name});"
            f" line 2: its verifier key (public: ConfigMap gongkai-verifier-keys, key {name}),"
            f" registered by gongkai setup --key {name}=VKEY or gongkai keys register {name} VKEY"
        )
    print(where, file=sys.stderr)
    return 0


def nats_helm_values(agencies: list[str]) -> int:
    """The NATS accounts for the official Helm chart, passwords as references to Secret gongkai-nats."""
    from .access import helm_values

    try:
        sys.stdout.write(helm_values(agencies))
    except ValueError as e:
        raise CliError(str(e)) from None
    return 0


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
    """Send the year's schedule to notify's API (the only writer of notify's events); notify
    appends ``calendar-loaded`` and recomputes the open deadlines."""
    import httpx

    spec = read_calendar_file(path)
    base = _service_url(settings)
    token = operator_token(_secret(settings))
    body = {**spec, "holidays": [d.isoformat() for d in spec["holidays"]],
            "adjusted_working_days": [d.isoformat() for d in spec["adjusted_working_days"]]}  # fmt: skip
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            r = await client.post(
                f"{base}/api/v1/calendar/years", json=body, headers={"Authorization": f"Bearer {token}"}
            )
    except httpx.HTTPError as e:
        raise CliError(f"cannot reach notify at {base} ({type(e).__name__}); is `make up` running?") from None
    if r.status_code >= 400:
        try:
            detail = r.json()
        except ValueError:
            detail = r.text
        raise CliError(f"notify refused the calendar ({r.status_code}): {detail}")
    done = r.json()
    if done["already_loaded"]:
        print(f"calendar {done['year']} revision {done['revision']} is already loaded; nothing to do")
        return 0
    print(
        f"loaded calendar {done['year']} revision {done['revision']}: {len(spec['holidays'])} holidays,"
        f" {len(spec['adjusted_working_days'])} adjusted working days (sequence {done['sequence']});"
        " notify recomputes the open deadlines"
    )
    return 0


def _service_url(settings: CliSettings) -> str:
    """GONGKAI_URL, else the URL ``make up`` wrote into the data folder."""
    if settings.url:
        return settings.url.rstrip("/")
    written = Path(settings.data_dir) / "url"
    if written.exists():
        return written.read_text().strip().rstrip("/")
    raise CliError("where is Gongkai? set GONGKAI_URL (e.g. http://127.0.0.1:8000) or GONGKAI_DATA_DIR")


async def _users(settings: CliSettings, args: argparse.Namespace) -> int:
    if args.cmd == "add":
        password = sys.stdin.readline().strip() if args.password_stdin else None
        return await users_add(
            settings, args.login, args.role, args.name, args.department, password, args.days
        )
    if args.cmd == "list":
        return await users_list(settings)
    value = {"disable": "reason", "grant": "role", "revoke": "role", "token": "days"}.get(args.cmd)
    given = getattr(args, value) if value else sys.stdin.readline().strip()
    return await users_change(settings, args.cmd, args.login, None if given is None else str(given))


def _problem(message: str):  # noqa: ANN202
    from .audit import Problem

    return Problem(None, None, message)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gongkai", description="Gongkai 政府信息公开 tools")
    sub = parser.add_subparsers(dest="group", required=True)
    users = sub.add_parser("users", help="staff accounts (through review's API)").add_subparsers(
        dest="cmd", required=True
    )
    add = users.add_parser("add", help="add a staff account; prints an API token for it")
    add.add_argument("login")
    add.add_argument("--role", action="append", required=True, help=", ".join(r.value for r in Role))
    add.add_argument("--name", help="display name (default: the login)")
    add.add_argument("--department", help="the department of a handler (承办部门)")
    add.add_argument("--password-stdin", action="store_true", help="read a sign-in password from stdin")
    add.add_argument("--days", type=int, default=30, help="the API token's lifetime")
    users.add_parser("list", help="every staff account")
    for action, arg, helptext in (
        ("disable", "--reason", "disable an account: its tokens stop working"),
        ("grant", "role", "grant a role"),
        ("revoke", "role", "revoke a role"),
        ("password", None, "set a sign-in password (read from stdin)"),
        ("token", "--days", "print an API token for a machine client"),
    ):
        p = users.add_parser(action, help=helptext)
        p.add_argument("login")
        if arg:
            p.add_argument(arg, required=arg == "--reason") if arg.startswith("--") else p.add_argument(arg)
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
    st = sub.add_parser("setup", help="operator: create the stream and register the signing keys")
    st.add_argument(
        "--key", action="append", default=[], metavar="SERVICE=VKEY", help="a service's verifier key"
    )
    st.add_argument("--replicas", type=int, default=1)
    stream = sub.add_parser("stream", help="operator: the FOI stream").add_subparsers(
        dest="cmd", required=True
    )
    sc = stream.add_parser("create", help="create the stream or restore its immutable settings (admin)")
    sc.add_argument("--replicas", type=int, default=1)
    keys = sub.add_parser("keys", help="the services' event-signing keys").add_subparsers(
        dest="cmd", required=True
    )
    keys.add_parser("list", help="registered keys and their validity, from the log")
    kr = keys.add_parser("register", help="register a service's verifier key (root key)")
    kr.add_argument("service")
    kr.add_argument("vkey")
    kv = keys.add_parser("revoke", help="revoke a key: what it signs after this is refused (root key)")
    kv.add_argument("key", help="<name>+<hex id> as `gongkai keys list` shows it")
    kv.add_argument("--reason", required=True)
    keys.add_parser("rotate", help="embedded runtime: a new key for a service, registered").add_argument(
        "service"
    )
    keys.add_parser("generate", help="print a new signing key and its verifier key").add_argument(
        "name", help="a service, or root"
    )
    nats_cmd = sub.add_parser("nats", help="the broker's configuration").add_subparsers(
        dest="cmd", required=True
    )
    hv = nats_cmd.add_parser("helm-values", help="the NATS accounts as values for the official Helm chart")
    hv.add_argument("--agency", action="append", default=[], metavar="NAME", help="an agency (repeat)")
    agencies = sub.add_parser("agencies", help="other agencies").add_subparsers(dest="cmd", required=True)
    agencies.add_parser("add", help="credentials and a durable consumer of the public events").add_argument(
        "name"
    )
    args = parser.parse_args(argv)
    settings = CliSettings()
    try:
        if args.group == "setup":
            return asyncio.run(setup(settings, args.key, args.replicas))
        if args.group == "stream":
            return asyncio.run(stream_create(settings, args.replicas))
        if args.group == "keys" and args.cmd == "generate":
            return keys_generate(args.name)
        if args.group == "nats":
            return nats_helm_values(args.agency)
        if args.group == "keys":
            return asyncio.run(
                {
                    "list": lambda: keys_list(settings),
                    "register": lambda: keys_register(settings, args.service, args.vkey),
                    "revoke": lambda: keys_revoke(settings, args.key, args.reason),
                    "rotate": lambda: keys_rotate(settings, args.service),
                }[args.cmd]()
            )
        if args.group == "agencies":
            return asyncio.run(agencies_add(settings, args.name))
        if args.group == "events":
            from .catalogue import asyncapi_json

            sys.stdout.write(asyncapi_json())
            return 0
        if args.group == "calendar":
            return asyncio.run(calendar_load(settings, args.file, args.actor))
        if args.group == "users":
            return asyncio.run(_users(settings, args))
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
