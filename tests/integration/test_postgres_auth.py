"""PostgreSQL with passwords (issue 7, point 5), on a real cluster made by the embedded runtime's
own code (gongkai_local.postgres) in a fresh data folder: SCRAM for every connection, the
superuser's included, no ``trust`` anywhere, and no service's role reading another's schema."""

from __future__ import annotations

import stat
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import asyncpg
import pytest

from gongkai_local.postgres import (
    DATABASE,
    SUPERUSER,
    Postgres,
    bootstrap,
    password_file,
    replace_keeping_owner,
    service_role,
    start_postgres,
    stop_postgres,
    trusts,
)
from gongkai_local.routes import SERVICES
from gongkai_local.secrets import secret_file
from gongkai_shared.db import migrate
from tests.harness import migrations_of

pytestmark = pytest.mark.integration


@dataclass
class Cluster:
    pg: Postgres
    first_passwords: dict[str, str]  # as generated on the first start, before the restart
    no_passfile: str  # asyncpg would otherwise look for ~/.pgpass

    def dsn(self, role: str, password: str | None, database: str = DATABASE) -> str:
        auth = role if password is None else f"{role}:{quote(password, safe='')}"
        return f"postgresql://{auth}@/{database}?host={self.pg.socket_dir}"

    async def connect(self, role: str, password: str | None, database: str = DATABASE) -> asyncpg.Connection:
        return await asyncpg.connect(self.dsn(role, password, database), passfile=self.no_passfile)


def _passwords(pg: Postgres) -> dict[str, str]:
    return {role: pg.password(role) for role in [SUPERUSER, *map(service_role, SERVICES)]}


@pytest.fixture(scope="module")
async def cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cluster]:
    """One cluster for the module: made, bootstrapped, stopped and started again on the same
    folder (as a second ``make up`` would), then intake and review migrated as their roles."""
    data = tmp_path_factory.mktemp("pgauth")
    pg = start_postgres(data)
    try:
        await bootstrap(pg, SERVICES)
        first = _passwords(pg)
    finally:
        stop_postgres(pg.pgdata, pg)
    pg = start_postgres(data)
    try:
        await bootstrap(pg, SERVICES)
        for service in ("intake", "review"):
            await migrate(pg.dsn(service_role(service)), service, migrations_of(service))
        yield Cluster(pg, first, str(data / "no-pgpass"))
    finally:
        stop_postgres(pg.pgdata, pg)


@pytest.fixture(autouse=True)
def _no_password_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PGPASSWORD", raising=False)


async def test_a_service_role_without_its_password_is_refused(cluster: Cluster) -> None:
    with pytest.raises(asyncpg.InvalidPasswordError):
        await cluster.connect("gongkai_intake", None)


async def test_a_service_role_with_a_wrong_password_is_refused(cluster: Cluster) -> None:
    with pytest.raises(asyncpg.InvalidPasswordError):
        await cluster.connect("gongkai_intake", cluster.pg.password("gongkai_review"))


async def test_a_service_role_with_its_password_is_accepted(cluster: Cluster) -> None:
    conn = await cluster.connect("gongkai_review", cluster.pg.password("gongkai_review"))
    try:
        assert await conn.fetchval("SELECT current_user") == "gongkai_review"
        assert not await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    finally:
        await conn.close()


async def test_the_superuser_needs_its_password_too(cluster: Cluster) -> None:
    with pytest.raises(asyncpg.InvalidPasswordError):
        await cluster.connect(SUPERUSER, None, "postgres")
    with pytest.raises(asyncpg.InvalidPasswordError):
        await cluster.connect(SUPERUSER, "postgres", "postgres")
    conn = await cluster.connect(SUPERUSER, cluster.pg.password(SUPERUSER), "postgres")
    try:
        assert await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    finally:
        await conn.close()


async def test_pg_hba_conf_has_no_trust_and_every_rule_is_scram(cluster: Cluster) -> None:
    assert not trusts((cluster.pg.pgdata / "pg_hba.conf").read_text())
    conn = await asyncpg.connect(cluster.pg.superuser_dsn)
    try:
        methods = {r["auth_method"] for r in await conn.fetch("SELECT auth_method FROM pg_hba_file_rules")}
        assert methods == {"scram-sha-256"}
        assert await conn.fetchval("SHOW password_encryption") == "scram-sha-256"
        stored = await conn.fetch(
            "SELECT rolname, rolpassword FROM pg_authid WHERE rolname = ANY($1::text[])",
            list(cluster.first_passwords),
        )
        assert len(stored) == len(cluster.first_passwords)
        assert all(r["rolpassword"].startswith("SCRAM-SHA-256$4096:") for r in stored)
    finally:
        await conn.close()


async def test_passwords_are_kept_in_private_files_and_survive_a_restart(cluster: Cluster) -> None:
    assert _passwords(cluster.pg) == cluster.first_passwords
    assert stat.S_IMODE(cluster.pg.secrets_dir.stat().st_mode) == 0o700
    for role in cluster.first_passwords:
        assert stat.S_IMODE(password_file(cluster.pg.secrets_dir, role).stat().st_mode) == 0o600
    assert cluster.pg.password("gongkai_notify") in cluster.pg.dsn("gongkai_notify")


async def test_review_cannot_read_or_write_intakes_schema(cluster: Cluster) -> None:
    review = await cluster.connect("gongkai_review", cluster.pg.password("gongkai_review"))
    try:
        await review.fetch("SELECT * FROM review.schema_migrations")  # its own: fine
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            await review.fetch("SELECT * FROM intake.applications")
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            await review.execute("CREATE TABLE intake.planted (x int)")
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            await review.execute("CREATE TABLE public.shared (x int)")  # no side channel either
    finally:
        await review.close()
    intake = await cluster.connect("gongkai_intake", cluster.pg.password("gongkai_intake"))
    try:
        assert await intake.fetchval("SELECT count(*) FROM intake.applications") == 0
    finally:
        await intake.close()


async def test_a_service_role_reaches_no_other_database(cluster: Cluster) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await cluster.connect("gongkai_review", cluster.pg.password("gongkai_review"), "postgres")


async def test_a_data_folder_from_before_passwords_is_closed_on_the_next_start(cluster: Cluster) -> None:
    """As pgserver's own initdb leaves it: ``trust`` everywhere and no superuser password. The
    next bootstrap sets the password and rewrites pg_hba.conf; then trust is gone. (Last in the
    module: it leaves the cluster as the other tests found it.)"""
    pg, hba = cluster.pg, cluster.pg.pgdata / "pg_hba.conf"
    conn = await asyncpg.connect(pg.superuser_dsn)
    try:
        await conn.execute(f"ALTER ROLE {SUPERUSER} PASSWORD NULL")
        replace_keeping_owner(hba, hba.read_text().replace("scram-sha-256", "trust"))
        await conn.execute("SELECT pg_reload_conf()")
    finally:
        await conn.close()
    (await cluster.connect(SUPERUSER, None, "postgres")).terminate()  # trusted, as it was

    await bootstrap(pg, SERVICES)

    assert not trusts(hba.read_text())
    with pytest.raises(asyncpg.InvalidPasswordError):
        await cluster.connect(SUPERUSER, None, "postgres")
    (await cluster.connect(SUPERUSER, pg.password(SUPERUSER), "postgres")).terminate()
    assert _passwords(pg) == cluster.first_passwords


def test_a_secret_file_is_made_once_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "x.password"
    value = secret_file(path)
    assert len(value) >= 43 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert secret_file(path) == value
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind
