"""The edge's route table against what the services really serve, and against what it generates.

Every route of every service's app (built without connecting) must be public in the table
(``gongkai_local.routes``), under ``/<service>/`` as API documentation, or operator-only; every
public entry must be served by its service. Then both generated configurations, the Caddyfile
(adapted to JSON by the real ``caddy adapt``) and the committed Kubernetes Ingress, must send
every public route to its service and no operator route anywhere.
"""

from __future__ import annotations

import importlib
import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from fastapi import FastAPI

from gongkai_local.procs import venv_bin
from gongkai_local.routes import (
    DEFAULT_MAX_BODY,
    DOCS,
    OPERATOR,
    PUBLIC,
    SERVICES,
    caddyfile,
    ingress,
    is_operator_path,
    parse_size,
    public_target,
    under,
)

ROOT = Path(__file__).resolve().parents[2]
COMMITTED_INGRESS = ROOT / "deploy" / "k8s" / "ingress.yaml"


def service_paths(app: FastAPI) -> set[str]:
    """Every path template the app serves (routes, included routers' routes, mounts)."""
    try:
        from fastapi.routing import iter_route_contexts  # FastAPI's flattened view of included routers
    except ImportError:  # older FastAPI: included routes are copied into app.routes
        routes = list(app.routes)
    else:
        routes = list(iter_route_contexts(app.routes))
    return {p for p in (getattr(r, "path", None) for r in routes) if p}


@pytest.fixture(scope="module")
def served() -> dict[str, set[str]]:
    out = {}
    for svc in SERVICES:
        app = importlib.import_module(f"gongkai_{svc}.app").create_app()
        out[svc] = service_paths(app)
    return out


def concrete(template: str) -> str:
    """A path the template matches: each ``{param}`` (or ``{param:path}``) becomes ``x``."""
    return re.sub(r"\{[^}]+\}", "x", template)


def test_every_route_a_service_serves_is_public_in_the_table_or_operator_only(served) -> None:
    unclassified = []
    for svc, paths in served.items():
        for path in sorted(paths):
            if is_operator_path(path):
                assert public_target(concrete(path)) is None, f"{svc} {path} is operator-only yet public"
                continue
            target = public_target(f"/{svc}{path}") if any(under(path, d) for d in DOCS) else None
            target = target or public_target(concrete(path))
            if target is None:
                unclassified.append(f"{svc} {path}")
            else:
                assert target[0] == svc, f"{path} is served by {svc} but the table sends it to {target[0]}"
    assert not unclassified, (
        "routes neither public in gongkai_local/routes.py nor operator-only: " + ", ".join(unclassified)
    )


def test_every_entry_of_the_table_is_served_by_its_service(served) -> None:
    for route in PUBLIC:
        assert any(under(p, route.prefix) for p in served[route.service]), (
            f"{route.prefix} goes to {route.service}, which serves nothing there"
        )
    for svc, paths in served.items():
        for path in (*DOCS, *OPERATOR):
            assert path in paths, f"{svc} does not serve {path}"


def test_no_public_prefix_is_claimed_twice() -> None:
    for a in PUBLIC:
        for b in PUBLIC:
            if a is not b:
                assert not under(a.prefix, b.prefix), f"{a.prefix} is under {b.prefix}"
    for svc in SERVICES:
        assert not any(under(r.prefix, f"/{svc}") for r in PUBLIC)


def test_sizes() -> None:
    assert parse_size("1048576") == parse_size("1MiB") == parse_size("1m") == DEFAULT_MAX_BODY
    assert parse_size("512KiB") == 512 * 1024 and parse_size("2MB") == 2_000_000
    for bad in ("", "0", "-1", "1 parsec", "MiB"):
        with pytest.raises(ValueError):
            parse_size(bad)


# --- the generated configurations ---------------------------------------------------------------

BACKENDS = {svc: f"127.0.0.1:{9100 + i}" for i, svc in enumerate(SERVICES)}
BY_UPSTREAM = {v: k for k, v in BACKENDS.items()}


@pytest.fixture(scope="module")
def caddy_routes(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[list[str], str, bool]]:
    """The public server's routes as Caddy itself reads them: (path patterns, service, stripped)."""
    conf = tmp_path_factory.mktemp("caddy") / "Caddyfile"
    text = caddyfile(
        port=9000, ops_port=9001, backends=BACKENDS, site_dir=conf.parent, max_body=DEFAULT_MAX_BODY
    )
    conf.write_text(text)
    done = subprocess.run(
        [venv_bin("caddy"), "adapt", "--config", str(conf), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    config = json.loads(done.stdout)
    [public] = [s for s in config["apps"]["http"]["servers"].values() if s["listen"] == ["127.0.0.1:9000"]]
    out = []

    def walk(routes: list[dict], paths: list[str]) -> None:
        for route in routes:
            here = [p for m in route.get("match", []) for p in m.get("path", [])] or paths
            for handler in route.get("handle", []):
                if handler["handler"] == "subroute":
                    walk(handler["routes"], here)
                elif handler["handler"] == "reverse_proxy":
                    [upstream] = handler["upstreams"]
                    strip = any(
                        h["handler"] == "rewrite" and "strip_path_prefix" in h
                        for r in routes
                        for h in r.get("handle", [])
                    )
                    out.append((here, BY_UPSTREAM[upstream["dial"]], strip))

    walk(public["routes"], [])
    return out


def caddy_target(routes: list[tuple[list[str], str, bool]], path: str) -> str | None:
    for patterns, svc, _ in routes:
        for pattern in patterns:
            if path == pattern or (pattern.endswith("/*") and path.startswith(pattern[:-1])):
                return svc
    return None


def committed_ingress() -> list[dict]:
    return [d for d in yaml.safe_load_all(COMMITTED_INGRESS.read_text()) if d]


def ingress_target(docs: list[dict], path: str) -> str | None:
    for doc in docs:
        if doc["kind"] != "Ingress":
            continue
        for rule in doc["spec"]["rules"]:
            for p in rule["http"]["paths"]:
                svc = p["backend"]["service"]["name"].removeprefix("gongkai-")
                if p["pathType"] == "Prefix" and under(path, p["path"]):
                    return svc
                if p["pathType"] == "ImplementationSpecific" and re.match(p["path"], path, re.I):
                    return svc
    return None


def public_paths(served: dict[str, set[str]]) -> list[tuple[str, str]]:
    """(service, public path) for every route of every service that the table makes public."""
    out = []
    for svc, paths in served.items():
        for path in paths:
            if any(under(path, d) for d in DOCS):
                out.append((svc, f"/{svc}{concrete(path)}"))
            elif not is_operator_path(path):
                out.append((svc, concrete(path)))
    return sorted(out)


def test_the_caddyfile_sends_every_public_route_to_its_service(served, caddy_routes) -> None:
    for svc, path in public_paths(served):
        assert caddy_target(caddy_routes, path) == svc, f"Caddy: {path} should go to {svc}"
    for svc in SERVICES:
        for path in OPERATOR:
            for probe in (path, f"/{svc}{path}"):
                assert caddy_target(caddy_routes, probe) is None, f"Caddy serves {probe} publicly"


def test_the_committed_ingress_is_what_the_table_generates() -> None:
    assert COMMITTED_INGRESS.read_text() == ingress(), (
        "deploy/k8s/ingress.yaml is out of date: "
        ".venv/bin/gongkai-up --print-ingress > deploy/k8s/ingress.yaml"
    )


def test_the_committed_ingress_sends_every_public_route_to_its_service(served) -> None:
    docs = committed_ingress()
    for svc, path in public_paths(served):
        assert ingress_target(docs, path) == svc, f"Ingress: {path} should go to {svc}"
    for svc in SERVICES:
        for path in OPERATOR:
            for probe in (path, f"/{svc}{path}"):
                assert ingress_target(docs, probe) is None, f"the Ingress serves {probe} publicly"
    uploads = {r.prefix for r in PUBLIC if r.max_body}  # issue 9: identity proofs, documents
    for doc in docs:
        if doc["kind"] == "Ingress":
            size = doc["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-body-size"]
            paths = {p["path"] for rule in doc["spec"]["rules"] for p in rule["http"]["paths"]}
            if paths & uploads:  # only the upload routes take more than 1 MiB
                assert size == "11m" and all(p in uploads for p in paths), paths
            else:
                assert size == "1m" or doc["metadata"]["name"].endswith("docs"), (
                    doc["metadata"]["name"],
                    size,
                )
    [headers] = [d for d in docs if d["kind"] == "ConfigMap"]
    assert "frame-ancestors 'none'" in headers["data"]["Content-Security-Policy"]
