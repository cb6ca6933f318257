"""The one route table of the public edge (公网入口路由表), and what it generates.

Which public path goes to which service is written down once, here. From it come the embedded
runtime's Caddyfile (``caddyfile()``, written into the data folder at every ``gongkai-up``) and
the Kubernetes Ingress (``ingress()``, committed as ``deploy/k8s/ingress.yaml``; regenerate it
with ``gongkai-up --print-ingress > deploy/k8s/ingress.yaml``). ``tests/unit/test_routes.py``
fails when a route a service serves is neither public here nor operator-only, and when the
committed Ingress is not what this table generates.

The edge also decides what no service should have to: a request-body limit (413), security
headers on every response, no path tricks (encoded slashes or dots, control characters, empty
segments: 400 before any routing), and the operator endpoints (``/metrics``, ``/readyz``,
``/healthz``, ``/api/v1/status``) only on a second, loopback-only listener, never on the public
one (docs/decisions.md, "The public edge").

Services never import this module (deploy code); it imports nothing from them either.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

SERVICES = ("intake", "review", "publishing", "notify")


@dataclass(frozen=True)
class Route:
    """``prefix`` and everything under ``prefix + "/"`` goes to ``service``, path unchanged."""

    prefix: str
    service: str
    # bytes a request body may have here; None: the edge's default (GONGKAI_MAX_BODY, 1 MiB).
    # Larger only where an upload needs it (UPLOAD_MAX_BODY: an identity proof, a document).
    max_body: int | None = None


# an upload (a file of at most GONGKAI_<SVC>_UPLOAD_MAX_BODY, 10 MiB by default) with its form
UPLOAD_MAX_BODY = 11 * 1024 * 1024

PUBLIC: tuple[Route, ...] = (
    Route("/api/v1/identity-proofs", "intake", max_body=UPLOAD_MAX_BODY),
    Route("/apply", "intake", max_body=UPLOAD_MAX_BODY),  # the form, with its identity proof
    Route("/api/v1/documents", "review", max_body=UPLOAD_MAX_BODY),  # disclosed documents
    Route("/api/v1/applications", "intake"),
    Route("/track", "intake"),
    Route("/api/v1/cases", "review"),
    Route("/api/v1/appeals", "review"),  # the office's register of appeals (table 四)
    Route("/api/v1/audit", "review"),  # auditors: checkpoints, their keys, proofs (issue 11)
    Route("/api/v1/reports", "review"),  # the annual report (条例 Art. 49-50)
    Route("/api/v1/refusals", "review"),  # the refusal register (不予公开登记, issue 10; staff)
    Route("/api/v1/auth", "review"),  # staff sign-in
    Route("/api/v1/users", "review"),  # staff accounts (administrators)
    Route("/staff", "review"),  # the staff sign-in page
    Route("/api/v1/catalog", "publishing"),
    Route("/api/v1/events", "publishing"),  # the public events' AsyncAPI and JSON Schemas
    Route("/api/v1/information/documents", "publishing"),  # documents (staff)
    Route("/api/v1/information/files", "publishing", max_body=UPLOAD_MAX_BODY),  # their files
    Route("/api/v1/publications", "publishing"),  # Art. 44 decisions (staff)
    Route("/gongkai", "publishing"),  # the column 政府信息公开: pages and the Atom feed
    Route("/api/v1/deadlines", "notify"),
    Route("/api/v1/calendar", "notify"),
    Route("/api/v1/notices", "notify"),
)

# Public under /<service>/, that prefix stripped: the API documentation (gongkai_shared.docs).
DOCS: tuple[str, ...] = ("/docs", "/openapi.json")

# Every service serves these for operators only: on the operator listener as /<service>/<path>,
# never on the public listener nor on the Ingress (Kubernetes probes and scrapes the pods).
OPERATOR: tuple[str, ...] = ("/healthz", "/readyz", "/metrics", "/api/v1/status")

DEFAULT_MAX_BODY = 1024 * 1024  # 1 MiB

# Content-Security-Policy: only this origin's scripts (no inline script: the docs pages load
# Swagger UI and its start-up script as files); inline styles are allowed for the applicants'
# pages; Swagger UI's icons are data: URIs; nobody may frame a page.
CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # /track/<code> carries the applicant's tracking code: never send it to another site
    "Referrer-Policy": "no-referrer",
}

# Refused with 400 before routing, on the raw request path (the query is not looked at): an
# encoded slash, backslash or control character, a backslash, an empty segment, a dot segment.
PATH_TRICK = r"^[^?]*(%2[fF]|%5[cC]|%[01][0-9a-fA-F]|%7[fF]|\\|//|/(\.|%2[eE]){1,2}(/|\?|$))"


def under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def public_target(path: str) -> tuple[str, str] | None:
    """(service, path it receives) for a clean public path, or None (404 at the edge)."""
    for route in PUBLIC:
        if under(path, route.prefix):
            return route.service, path
    for svc in SERVICES:
        for doc in DOCS:
            if under(path, f"/{svc}{doc}"):
                return svc, path[len(svc) + 1 :]
    return None


def is_operator_path(path: str) -> bool:
    return any(under(path, p) for p in OPERATOR)


def parse_size(text: str) -> int:
    """``1048576``, ``1MiB``, ``512KiB``, ``2MB``, ``1m`` (k and m are binary, as nginx reads them)."""
    m = re.fullmatch(r"\s*(\d+)\s*([a-zA-Z]*)\s*", text)
    units = {"": 1, "b": 1, "k": 1024, "kib": 1024, "kb": 1000, "m": 1024**2, "mib": 1024**2,
             "mb": 1000**2, "g": 1024**3, "gib": 1024**3, "gb": 1000**3}  # fmt: skip
    if m is None or m.group(2).lower() not in units or int(m.group(1)) <= 0:
        raise ValueError(f"not a size: {text!r} (for example 1048576, 1MiB, 512KiB)")
    return int(m.group(1)) * units[m.group(2).lower()]


def max_body_from_env() -> int:
    value = os.environ.get("GONGKAI_MAX_BODY", "").strip()
    return parse_size(value) if value else DEFAULT_MAX_BODY


def nginx_size(n: int) -> str:
    for unit, factor in (("m", 1024**2), ("k", 1024)):
        if n % factor == 0:
            return f"{n // factor}{unit}"
    return str(n)


def human_size(n: int) -> str:
    for unit, factor in (("MiB", 1024**2), ("KiB", 1024)):
        if n % factor == 0:
            return f"{n // factor} {unit}"
    return f"{n} bytes"


# ---------------------------------------------------------------------------------------------
# Caddy (the embedded runtime)


def _q(text: str) -> str:
    """A Caddyfile token in double quotes."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _json_respond(status: int, message: str) -> str:
    import json

    return "`" + json.dumps({"status": status, "message": message}, ensure_ascii=False) + "`"


def _matcher_paths(prefixes: list[str]) -> str:
    return " ".join(p for prefix in prefixes for p in (prefix, f"{prefix}/*"))


def caddyfile(*, port: int, ops_port: int, backends: dict[str, str], site_dir: Path, max_body: int) -> str:
    """The Caddyfile of the embedded runtime. ``backends``: service -> ``host:port``."""
    out: list[str] = [
        "# Generated by gongkai-up at every start from gongkai_local/routes.py; edits are lost.",
        "{",
        "\tadmin off",
        "\tauto_https off",
        "\tpersist_config off",
        "\tgrace_period 5s",
        "\tservers {",
        "\t\ttimeouts {",
        "\t\t\tread_header 10s",
        "\t\t\tread_body 60s",
        "\t\t\tidle 2m",
        "\t\t}",
        "\t}",
        "}",
        "",
        "(edge_headers) {",
        "\theader {",
        "\t\tdefer",
        *(f"\t\t{name} {_q(value)}" for name, value in SECURITY_HEADERS.items()),
        "\t\t-Server",
        "\t\t-Via",
        "\t}",
        "}",
        "",
        "(json_errors) {",
        "\thandle_errors 400 {",
        "\t\timport edge_headers",
        "\t\theader Content-Type application/json",
        f"\t\trespond {_json_respond(400, '请求路径不被接受 (path not allowed)')} 400",
        "\t}",
        "\thandle_errors 404 {",
        "\t\timport edge_headers",
        "\t\theader Content-Type application/json",
        f"\t\trespond {_json_respond(404, '未找到 (not found)')} 404",
        "\t}",
        "\thandle_errors 413 {",
        "\t\timport edge_headers",
        "\t\theader Content-Type application/json",
        f"\t\trespond {_json_respond(413, '请求内容过大 (request body too large)')} 413",
        "\t}",
        "\thandle_errors {",
        "\t\timport edge_headers",
        "\t\theader Content-Type application/json",
        '\t\trespond `{"status": {err.status_code}, "message": "服务暂不可用 ({err.status_text})"}`',
        "\t}",
        "}",
        "",
        f"# The public listener: {len(PUBLIC)} routes, the API documentation, a landing page.",
        f"http://:{port} {{",
        "\tbind 127.0.0.1",
        "\timport edge_headers",
        "\timport json_errors",
        "",
        "\t@path_trick expression <<CEL",
        f'\t\t{{http.request.uri}}.matches(r"{PATH_TRICK}")',
        "\t\tCEL",
        "\thandle @path_trick {",
        '\t\terror "path not allowed" 400',
        "\t}",
        "",
    ]
    for svc in SERVICES:
        routes = [r for r in PUBLIC if r.service == svc]
        # larger limits first: Caddy tries named matchers in order, and the upload routes lie
        # under the ordinary ones (/api/v1/applications/identity-proof)
        for limit in sorted({r.max_body or max_body for r in routes}, reverse=True):
            prefixes = [r.prefix for r in routes if (r.max_body or max_body) == limit]
            name = f"{svc}" if limit == max_body else f"{svc}_{limit}"
            out += [
                f"\t@{name} path {_matcher_paths(prefixes)}",
                f"\thandle @{name} {{",
                f"\t\trequest_body {{\n\t\t\tmax_size {limit}\n\t\t}}",
                f"\t\treverse_proxy {backends[svc]}",
                "\t}",
            ]
        out += [
            f"\t@{svc}_docs path {_matcher_paths([f'/{svc}{d}' for d in DOCS])}",
            f"\thandle @{svc}_docs {{",
            f"\t\trequest_body {{\n\t\t\tmax_size {max_body}\n\t\t}}",
            f"\t\turi strip_prefix /{svc}",
            f"\t\treverse_proxy {backends[svc]} {{",
            f"\t\t\theader_up X-Forwarded-Prefix /{svc}",
            "\t\t}",
            "\t}",
            "",
        ]
    out += [
        "\thandle /healthz {",
        "\t\theader Content-Type application/json",
        '\t\trespond `{"status": "ok"}` 200',
        "\t}",
        "\thandle / {",
        f"\t\troot * {_q(str(site_dir))}",
        "\t\trewrite * /index.html",
        "\t\tfile_server",
        "\t}",
        "\thandle {",
        '\t\terror "no public route" 404',
        "\t}",
        "}",
        "",
        "# The operator listener (loopback only): /<service>/... to that service, prefix stripped:",
        "# /<service>/metrics, /readyz, /healthz, /api/v1/status, and its whole API.",
        f"http://:{ops_port} {{",
        "\tbind 127.0.0.1",
        "\timport edge_headers",
        "\timport json_errors",
    ]
    for svc in SERVICES:
        out += [f"\thandle_path /{svc}/* {{", f"\t\treverse_proxy {backends[svc]}", "\t}"]
    out += ["\thandle {", '\t\terror "no such service" 404', "\t}", "}", ""]
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# Kubernetes (ingress-nginx)

INGRESS_HEADER = """\
# GENERATED from the route table in deploy/local/gongkai_local/routes.py: do not edit by hand.
# Regenerate with:  .venv/bin/gongkai-up --print-ingress > deploy/k8s/ingress.yaml
# (tests/unit/test_routes.py fails while this file differs from what the table generates.)
# Written for ingress-nginx >= 1.10. Set the host and TLS secret for your site with a kustomize
# patch. The security headers come from the ConfigMap gongkai-edge-headers (annotation
# custom-headers); allow them in the controller's ConfigMap (global-allowed-response-headers:
#   "Content-Security-Policy,X-Content-Type-Options,X-Frame-Options,Referrer-Policy").
# Operator endpoints (/metrics, /readyz, /healthz, /api/v1/status) are not routed: probes and
# Prometheus reach the pods directly.
"""


def _backend(svc: str) -> dict:
    return {"service": {"name": f"gongkai-{svc}", "port": {"name": "http"}}}


def ingress(
    *, max_body: int = DEFAULT_MAX_BODY, host: str = "gongkai.example.gov.cn", tls_secret: str = "gongkai-tls"
) -> str:
    """deploy/k8s/ingress.yaml: the security-headers ConfigMap, one Ingress per body limit for the
    public routes (path kept), one for the API documentation (/<service>/ stripped)."""
    common = {
        "nginx.ingress.kubernetes.io/custom-headers": "gongkai/gongkai-edge-headers",
    }
    spec_tls = [{"hosts": [host], "secretName": tls_secret}]
    docs: list[dict] = [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "gongkai-edge-headers"},
            "data": dict(SECURITY_HEADERS),
        }
    ]
    limits = sorted({r.max_body or max_body for r in PUBLIC})
    for limit in limits:
        name = "gongkai-public" if limit == max_body else f"gongkai-public-{nginx_size(limit)}"
        paths = [
            {"path": r.prefix, "pathType": "Prefix", "backend": _backend(r.service)}
            for r in PUBLIC
            if (r.max_body or max_body) == limit
        ]
        docs.append(
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "Ingress",
                "metadata": {
                    "name": name,
                    "annotations": {
                        **common,
                        "nginx.ingress.kubernetes.io/proxy-body-size": nginx_size(limit),
                    },
                },
                "spec": {
                    "ingressClassName": "nginx",
                    "tls": spec_tls,
                    "rules": [{"host": host, "http": {"paths": paths}}],
                },
            }
        )
    alternatives = "|".join(re.escape(d.lstrip("/")) for d in DOCS)
    docs.append(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {
                "name": "gongkai-docs",
                "annotations": {
                    **common,
                    "nginx.ingress.kubernetes.io/proxy-body-size": nginx_size(max_body),
                    "nginx.ingress.kubernetes.io/use-regex": "true",
                    "nginx.ingress.kubernetes.io/rewrite-target": "/$1",
                },
            },
            "spec": {
                "ingressClassName": "nginx",
                "tls": spec_tls,
                "rules": [
                    {
                        "host": host,
                        "http": {
                            "paths": [
                                {
                                    "path": f"/{svc}/((?:{alternatives})(?:/.*)?)$",
                                    "pathType": "ImplementationSpecific",
                                    "backend": _backend(svc),
                                }
                                for svc in SERVICES
                            ]
                        },
                    }
                ],
            },
        }
    )
    body = "---\n".join(yaml.safe_dump(d, sort_keys=False, allow_unicode=True, width=1000) for d in docs)
    return INGRESS_HEADER + body
