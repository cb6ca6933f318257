"""Schema fuzzing (schemathesis) of every operation of the four services, through the real edge.

Each service's OpenAPI is loaded as the public sees it (``/<service>/openapi.json`` through
Caddy) and every operation is called through Caddy (operator endpoints through the operator
listener), with data that fits the schema and data that does not, once without a token and once
with a valid staff token of each role below. Two checks: no 5xx, and every status code that
comes back is declared in the operation's OpenAPI (issue 8).

Bounded so that it runs in ``make test``: a fixed number of examples per operation and mode,
derandomized (the same cases on every run), no shrinking, no example database.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import status_code_conformance

from gongkai_local.routes import OPERATOR, SERVICES, is_operator_path, public_target, under
from tests.edge import Site, open_site
from tests.harness import System
from tests.servers import NatsServer, new_database

EXAMPLES = 12  # per operation and token, on average per generation mode
TIMEOUT = 10  # seconds for one answer
TOKENS: dict[str, str | None] = {"anonymous": None, "reviewer": "reviewer", "admin": "admin"}

# operations whose every accepted call does heavy work (a projection rebuilt from the log): a
# few examples each, so the module stays within its time (their logic has its own tests)
FEW_EXAMPLES: dict[str, int] = {"/api/v1/status/projections": 2}

# (method, path) -> why an operation is fuzzed for 5xx only, without the status-code check.
# Empty: every operation of the four services declares what it answers.
CONFORMANCE_SKIPPED: dict[tuple[str, str], str] = {}


@pytest.fixture(scope="module")
async def fuzz_site(tmp_path_factory: pytest.TempPathFactory, pg_dsn: str) -> AsyncIterator[Site]:
    """One edge for the whole module (starting it is the slow part)."""
    tmp = tmp_path_factory.mktemp("fuzz")
    _, url = await new_database(pg_dsn)
    nats = NatsServer(tmp / "nats").start()
    try:
        async with open_site(nats, url, tmp) as site:
            # the staff accounts exist before a plain HTTP client (no harness hook) uses a token
            for role in filter(None, TOKENS.values()):
                r = await site.system.clients["review"].get("/api/v1/cases", headers=System.token(role))
                assert r.status_code in (200, 403), r.text  # known (an admin may not list cases)
            yield site
    finally:
        nats.stop()  # the database goes with the session's PostgreSQL


def base_url_of(site: Site, service: str, path: str) -> str | None:
    """Where the edge serves a service's path: the public listener, the operator listener
    (``/<service>/...``), or nowhere (None)."""
    template = path.split("{", 1)[0].rstrip("/") or "/"
    target = public_target(template)
    if target is not None and target[0] == service:
        return site.edge.url
    if is_operator_path(template) or any(under(template, p) for p in OPERATOR):
        return f"{site.edge.ops_url}/{service}"
    return None


@dataclass(frozen=True)
class Finding:
    operation: str
    token: str
    status: int | None  # None: no answer in time
    problem: str
    curl: str

    def __str__(self) -> str:
        return f"{self.operation} [{self.token}] {self.status}: {self.problem}\n    {self.curl}"


def fuzz(
    operation: Any, base_url: str, token: str | None, checks: list[Any], examples: int = EXAMPLES
) -> list[Finding]:
    """Run ``operation`` with bounded, derandomized examples; what went wrong, every time."""
    found: list[Finding] = []
    headers = System.token(token) if token else {}
    session = requests.Session()
    modes = st.sampled_from([schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE])
    name = f"{operation.method.upper()} {operation.path}"

    @hypothesis.settings(
        max_examples=examples * 2,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(data=st.data(), mode=modes)
    def run(data: st.DataObject, mode: schemathesis.GenerationMode) -> None:
        case = data.draw(operation.as_strategy(generation_mode=mode))
        curl = case.as_curl_command(headers={"Authorization": "Bearer …"} if token else None,
                                    base_url=base_url)  # fmt: skip
        try:
            response = case.call(base_url=base_url, session=session, headers=headers, timeout=TIMEOUT)
        except requests.RequestException as exc:
            found.append(Finding(name, token or "no token", None, type(exc).__name__, curl))
            return
        try:
            case.validate_response(response, checks=checks, headers=headers,
                                   transport_kwargs={"base_url": base_url})  # fmt: skip
        except FailureGroup as exc:
            for failure in exc.exceptions:
                found.append(Finding(name, token or "no token", response.status_code, failure.title, curl))

    try:
        run()
    finally:
        session.close()
    return found


def fuzz_service(site: Site, service: str, token: str | None) -> tuple[list[Finding], int, list[str]]:
    """(findings, operations run, operations the edge does not serve) of one service."""
    schema = schemathesis.openapi.from_url(f"{site.edge.url}/{service}/openapi.json", timeout=10)
    found: list[Finding] = []
    unrouted: list[str] = []
    count = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        key = (operation.method.upper(), operation.path)
        base_url = base_url_of(site, service, operation.path)
        if base_url is None:
            unrouted.append(" ".join(key))
            continue
        checks: list[Any] = [not_a_server_error]
        if key not in CONFORMANCE_SKIPPED:
            checks.append(status_code_conformance)
        count += 1
        examples = next((n for p, n in FEW_EXAMPLES.items() if operation.path.startswith(p)), EXAMPLES)
        found += fuzz(operation, base_url, token, checks, examples)
    return found, count, unrouted


@pytest.mark.parametrize("token", list(TOKENS.values()), ids=list(TOKENS))
@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.timeout(240)
async def test_every_operation_answers_without_5xx_and_only_declared_codes(
    fuzz_site: Site, service: str, token: str | None
) -> None:
    started = time.monotonic()
    found, count, unrouted = await asyncio.to_thread(fuzz_service, fuzz_site, service, token)
    print(f"{service} [{token or 'no token'}]: {count} operations in {time.monotonic() - started:.1f}s")
    assert count > 0
    assert not unrouted, f"operations the edge does not serve: {unrouted}"
    # one example of each distinct problem (operation, status, check)
    distinct = {(f.operation, f.status, f.problem): f for f in found}
    assert not distinct, f"{len(found)} failing cases, {len(distinct)} distinct:\n" + "\n".join(
        map(str, distinct.values())
    )
