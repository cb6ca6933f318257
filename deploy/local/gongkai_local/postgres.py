"""PostgreSQL from the ``pgserver`` wheel: one cluster under the data folder, a unix socket only.

Database ``gongkai``; one LOGIN role per service (``gongkai_<svc>``) that may connect to it and
create (and then owns) its own schema, and nothing else: no service can read another's schema.

Every connection, over the socket or TCP, the superuser's included, authenticates with
SCRAM-SHA-256; there is no ``trust`` line in ``pg_hba.conf``. Each role's password is generated
once into ``<data>/secrets/postgres-<role>.password`` (mode 0600). The superuser (``postgres``)
is used only here, to bootstrap, and by an operator's admin commands; services get their own
role's DSN.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import stat
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import asyncpg

from .pgwatch import alive
from .secrets import secret_file

with warnings.catch_warnings():
    # platformdirs warns when XDG_RUNTIME_DIR is unset (pgserver then uses /tmp/runtime-<uid>).
    warnings.simplefilter("ignore")
    import pgserver
    from pgserver.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

DATABASE = "gongkai"
SUPERUSER = "postgres"
SCRAM = "scram-sha-256"
PG_BIN = Path(pgserver.__file__).parent / "pginstall" / "bin"


def service_role(service: str) -> str:
    return f"gongkai_{service}"


def password_file(secrets_dir: Path, role: str) -> Path:
    return secrets_dir / f"postgres-{role}.password"


@dataclass
class Postgres:
    server: pgserver.PostgresServer
    pgdata: Path
    socket_dir: str
    secrets_dir: Path

    def password(self, role: str) -> str:
        """The role's password, generated on first use and kept in its file."""
        return secret_file(password_file(self.secrets_dir, role))

    def dsn(self, role: str, database: str = DATABASE) -> str:
        return f"postgresql://{role}:{quote(self.password(role), safe='')}@/{database}?host={self.socket_dir}"

    @property
    def superuser_dsn(self) -> str:
        return self.dsn(SUPERUSER, "postgres")


def _system_user() -> str | None:
    """As root, pgserver runs the cluster as its own system user; its files belong to that user."""
    return "pgserver" if os.geteuid() == 0 else None


def _forget_dead_handles(pgdata: Path) -> None:
    """pgserver stops the cluster only when the last live handle goes away; a supervisor killed
    with SIGKILL leaves its pid in the list, so drop pids that are no longer running."""
    handles = pgdata / ".handle_pids.json"
    if not handles.exists():
        return
    try:
        pids = json.loads(handles.read_text())
    except ValueError:
        pids = []
    handles.write_text(json.dumps([p for p in pids if alive(p)]))


def start_postgres(data_dir: Path) -> Postgres:
    """Blocking: initdb on first use, then start (or adopt a cluster left running)."""
    pgdata = (data_dir / "pg").resolve()
    pgdata.mkdir(parents=True, exist_ok=True)
    secrets_dir = data_dir.resolve() / "secrets"
    if not (pgdata / "PG_VERSION").exists():
        _initdb(pgdata, secret_file(password_file(secrets_dir, SUPERUSER)))
    _forget_dead_handles(pgdata)
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    host = parse_qs(urlsplit(server.get_uri()).query)["host"][0]
    _link_log(data_dir, pgdata)
    return Postgres(server, pgdata, host, secrets_dir)


def _initdb(pgdata: Path, superuser_password: str) -> None:
    """Create the cluster before pgserver would (its initdb allows ``trust``), so it requires
    SCRAM passwords from its very first start: there is never a moment it trusts anyone."""
    user = _system_user()
    if user is not None:
        _prepare_system_user(user, pgdata)
    # initdb reads the password from a file; it lives beside PGDATA only while initdb runs.
    with tempfile.TemporaryDirectory(dir=pgdata.parent) as tmp:
        pwfile = Path(tmp) / "pwfile"
        pwfile.write_text(superuser_password + "\n")
        if user is not None:
            for path in (Path(tmp), pwfile):
                os.chown(path, *_ids(user))
        argv = [
            str(PG_BIN / "initdb"), "-D", str(pgdata), "-U", SUPERUSER, "--encoding=utf8",
            f"--auth-local={SCRAM}", f"--auth-host={SCRAM}", f"--pwfile={pwfile}",
            "--set", f"password_encryption={SCRAM}",
        ]  # fmt: skip
        done = subprocess.run(argv, user=user, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"initdb failed ({done.returncode}): {done.stderr.strip()}")


def _prepare_system_user(user: str, pgdata: Path) -> None:
    """What pgserver does as root before its own initdb: its system user exists, can reach the
    binaries and owns PGDATA."""
    ensure_user_exists(user)
    ensure_prefix_permissions(pgdata)
    ensure_prefix_permissions(PG_BIN)
    read, execute = stat.S_IRGRP | stat.S_IROTH, stat.S_IXGRP | stat.S_IXOTH
    ensure_folder_permissions(PG_BIN, read | execute)
    ensure_folder_permissions(PG_BIN.parent / "lib", read)
    os.chown(pgdata, *_ids(user))


def _ids(user: str) -> tuple[int, int]:
    import pwd

    entry = pwd.getpwnam(user)
    return entry.pw_uid, entry.pw_gid


def _link_log(data_dir: Path, pgdata: Path) -> None:
    link = data_dir / "logs" / "postgres.log"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.is_symlink():
        link.unlink(missing_ok=True)
        link.symlink_to(pgdata / "log")


# --- authentication -----------------------------------------------------------------------------


def scram_verifier(password: str, iterations: int = 4096) -> str:
    """What PostgreSQL stores for a SCRAM-SHA-256 password (RFC 5802, RFC 7677), computed here
    so that the plaintext never reaches the server, its logs or its statistics views. (Passwords
    here are ASCII, for which SASLprep changes nothing.)"""
    salt = os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    stored_key = hashlib.sha256(hmac.digest(salted, b"Client Key", "sha256")).digest()
    server_key = hmac.digest(salted, b"Server Key", "sha256")
    b64 = [base64.b64encode(b).decode() for b in (salt, stored_key, server_key)]
    return f"SCRAM-SHA-256${iterations}:{b64[0]}${b64[1]}:{b64[2]}"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


async def set_password(conn: asyncpg.Connection, role: str, password: str) -> None:
    """Create the login role if it is missing; (re)set its password either way, so the password
    file is always the truth: replacing it and restarting rotates the password."""
    exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
    verb = "ALTER" if exists else "CREATE"
    await conn.execute(f"{verb} ROLE {_ident(role)} LOGIN PASSWORD {_literal(scram_verifier(password))}")


def trusts(hba: str) -> bool:
    """Whether a pg_hba.conf text lets anyone in without a password."""
    return any("trust" in line.split("#", 1)[0].split() for line in hba.splitlines())


def without_trust(hba: str) -> str:
    """``hba`` with every ``trust`` method replaced by SCRAM; every other line as it was."""
    lines = []
    for line in hba.splitlines():
        rule, hash_, comment = line.partition("#")
        fields = rule.split()
        if "trust" in fields:
            line = " ".join(SCRAM if f == "trust" else f for f in fields) + (f" #{comment}" if hash_ else "")
        lines.append(line)
    return "\n".join(lines) + "\n"


def replace_keeping_owner(path: Path, text: str) -> None:
    """Replace ``path`` in one step, keeping its owner and mode: the server process (as root,
    pgserver's own system user) must still be able to read it."""
    st = path.stat()
    tmp = path.with_name(path.name + ".new")
    tmp.write_text(text)
    os.chown(tmp, st.st_uid, st.st_gid)
    os.chmod(tmp, stat.S_IMODE(st.st_mode))
    os.replace(tmp, path)


async def close_trust(pg: Postgres) -> None:
    """A data folder made before passwords (pgserver's own initdb trusts every local user): give
    the superuser its password while trust still lets us in, then require SCRAM everywhere."""
    hba = pg.pgdata / "pg_hba.conf"
    text = hba.read_text()
    if not trusts(text):
        return
    conn = await asyncpg.connect(pg.superuser_dsn)  # trust: the password is not even asked for
    try:
        await set_password(conn, SUPERUSER, pg.password(SUPERUSER))
        replace_keeping_owner(hba, without_trust(text))
        # pg_hba_file_rules parses the file on disk: a broken file is put back before the server
        # could ever load it (it would refuse to start next time).
        errors = await conn.fetch("SELECT line_number, error FROM pg_hba_file_rules WHERE error IS NOT NULL")
        if errors:
            replace_keeping_owner(hba, text)
            raise RuntimeError(f"{hba} would not be valid without trust: {[tuple(e) for e in errors]}")
        await conn.execute("SELECT pg_reload_conf()")
    finally:
        await conn.close()


async def connect_superuser(pg: Postgres, database: str = "postgres") -> asyncpg.Connection:
    try:
        return await asyncpg.connect(pg.dsn(SUPERUSER, database))
    except asyncpg.InvalidPasswordError as exc:
        file = password_file(pg.secrets_dir, SUPERUSER)
        raise RuntimeError(f"PostgreSQL refused the superuser's password from {file}: {exc}") from exc


# --- the database and the services' roles -------------------------------------------------------


async def prepare_cluster(conn: asyncpg.Connection, passwords: Mapping[str, str]) -> None:
    """Cluster-wide, as the superuser: passwords stored as SCRAM, and a login role per entry of
    ``passwords`` (role -> password) that may connect only where it is granted to."""
    await conn.execute(f"ALTER SYSTEM SET password_encryption = {_literal(SCRAM)}")
    await conn.execute("SELECT pg_reload_conf()")
    for role, password in passwords.items():
        await set_password(conn, role, password)
    # Every new database lets PUBLIC connect; the maintenance database is for the superuser only.
    await conn.execute("REVOKE ALL ON DATABASE postgres FROM PUBLIC")


async def grant_database(conn: asyncpg.Connection, database: str, roles: Iterable[str]) -> None:
    """As the superuser, connected to ``database``: only ``roles`` may connect, each may create
    its own schema, and nobody may use the ``public`` schema. A schema a role creates is its own
    and grants nothing to others, so one service's role cannot read another's tables."""
    db = _ident(database)
    await conn.execute(f"REVOKE ALL ON DATABASE {db} FROM PUBLIC")
    await conn.execute(f"GRANT CONNECT, CREATE ON DATABASE {db} TO {', '.join(map(_ident, roles))}")
    await conn.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")


async def bootstrap(pg: Postgres, services: Iterable[str]) -> None:
    """At every start, idempotent: no ``trust``, database ``gongkai``, each service's role with
    the password from its file, and the grants. Each service then makes its own schema."""
    await close_trust(pg)
    roles = [service_role(s) for s in services]
    conn = await connect_superuser(pg)
    try:
        await prepare_cluster(conn, {role: pg.password(role) for role in roles})
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE):
            await conn.execute(f"CREATE DATABASE {_ident(DATABASE)}")
    finally:
        await conn.close()
    conn = await connect_superuser(pg, DATABASE)
    try:
        await grant_database(conn, DATABASE, roles)
    finally:
        await conn.close()


# --- stopping -----------------------------------------------------------------------------------


def start_watchdog(pgdata: Path) -> subprocess.Popen[bytes]:
    """A process outside our process group that stops the cluster if this process is killed."""
    return subprocess.Popen(
        [sys.executable, "-m", "gongkai_local.pgwatch", str(os.getpid()), str(pgdata)],
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop_postgres(pgdata: Path, pg: Postgres | None) -> None:
    """Stop the cluster: pgserver's own cleanup, then ``pg_ctl stop`` if anything is left."""
    if pg is not None:
        pg.server.cleanup()
    if not (pgdata / "postmaster.pid").exists():
        return
    # pg_ctl stops the server by signal (no connection, so no password); as root it must run as
    # the cluster's system user.
    subprocess.run(
        [str(PG_BIN / "pg_ctl"), "-D", str(pgdata), "-m", "fast", "-w", "stop"],
        user=_system_user(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
        timeout=60,
    )
