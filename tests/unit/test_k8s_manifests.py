"""The Kubernetes manifests keep the promises of docs/security.md.

The NATS accounts committed for the Helm chart are exactly what ``gongkai_shared.access``
generates; no Service exposes the NATS monitoring port; each Deployment gets its own NATS
password and signing key and never the admin password or the root signing key; only intake
holds the tracking-code key; the setup Job registers the keys with the admin credential; every
placeholder is one the services (or the setup Job) refuse.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from gongkai_cli.main import main
from gongkai_shared.access import ADMIN, AUDITOR, NATS_SECRET, SERVICES, helm_values, password_env
from gongkai_shared.checkpoint import CheckpointError, Signer, parse_vkey
from gongkai_shared.settings import weak_secret
from gongkai_shared.trust import KeyRing

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
MONITOR_PORT = 8222


@pytest.fixture(scope="module")
def rendered() -> list[dict[str, Any]]:
    """What `kubectl apply -k deploy/k8s` would apply."""
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed")
    out = subprocess.run(
        ["kubectl", "kustomize", str(K8S)], check=True, capture_output=True, text=True
    ).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def of_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def secret_refs(container: dict[str, Any]) -> list[tuple[str, str]]:
    """Every (Secret, key) a container's environment reads; a whole-Secret envFrom is ("name", "*")."""
    refs = [(e["secretRef"]["name"], "*") for e in container.get("envFrom", []) if "secretRef" in e]
    for e in container.get("env", []):
        if ref := e.get("valueFrom", {}).get("secretKeyRef"):
            refs.append((ref["name"], ref["key"]))
    return refs


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container.get("env", [])}


def containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    spec = workload["spec"]["template"]["spec"]
    return [*spec.get("initContainers", []), *spec["containers"]]


# --- NATS: the committed Helm values ---------------------------------------------------------------


def test_the_committed_nats_accounts_are_the_generated_ones() -> None:
    committed = (K8S / "nats-auth-values.yaml").read_text()
    assert committed == helm_values(), (
        "deploy/k8s/nats-auth-values.yaml is out of date: "
        ".venv/bin/gongkai nats helm-values > deploy/k8s/nats-auth-values.yaml"
    )


def test_every_nats_password_comes_from_the_secret_and_none_is_written_in_the_values() -> None:
    values = yaml.safe_load(helm_values(["city-a"]))
    users = [u for account in values["config"]["merge"]["accounts"].values() for u in account["users"]]
    assert {u["user"] for u in users} == {*SERVICES, ADMIN, AUDITOR, "agency-city-a"}
    for u in users:
        assert u["password"] == f"<< ${password_env(u['user'])} >>"
        ref = values["container"]["env"][password_env(u["user"])]["valueFrom"]["secretKeyRef"]
        assert ref == {"name": NATS_SECRET, "key": u["user"]}


def test_an_agency_is_added_by_rendering_again_with_its_name() -> None:
    without = yaml.safe_load(helm_values())["config"]["merge"]["accounts"]["AGENCIES"]
    assert without == {"users": []}  # no one can log in to the agencies' account yet
    agencies = yaml.safe_load(helm_values(["city-a"]))["config"]["merge"]["accounts"]["AGENCIES"]
    [user] = agencies["users"]
    assert user["permissions"]["subscribe"] == {"allow": ["_INBOX_agency-city-a.>"]}
    assert all(
        i["service"]["subject"].endswith(("agency-city-a", "agency-city-a.>")) for i in agencies["imports"]
    )


def test_the_cli_prints_the_values(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["nats", "helm-values", "--agency", "city-a", "--agency", "county-b"]) == 0
    assert capsys.readouterr().out == helm_values(["county-b", "city-a"])
    assert main(["nats", "helm-values", "--agency", "City A"]) == 2


def test_no_service_exposes_the_nats_monitoring_port(rendered: list[dict[str, Any]]) -> None:
    """Rule: the monitoring port lists every connection; it is read inside the pod only."""
    values = yaml.safe_load((K8S / "nats-values.yaml").read_text())
    assert values["service"]["ports"]["monitor"]["enabled"] is False
    assert {"op": "remove", "path": "/spec/ports/2"} in values["headlessService"]["patch"]
    assert {"op": "test", "path": "/spec/ports/2/name", "value": "monitor"} in values["headlessService"][
        "patch"
    ]
    for service in of_kind(rendered, "Service").values():
        for port in service["spec"]["ports"]:
            assert MONITOR_PORT not in (port.get("port"), port.get("targetPort"))
            assert "monitor" not in (port.get("name"), port.get("targetPort"))
    [policy] = of_kind(rendered, "NetworkPolicy").values()
    allowed = {p["port"] for rule in policy["spec"]["ingress"] for p in rule["ports"]}
    assert MONITOR_PORT not in allowed and 4222 in allowed


# --- the services: each its own credentials, never the operator's ---------------------------------


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_gets_its_own_nats_password_and_signing_key_only(
    rendered: list[dict[str, Any]], service: str
) -> None:
    deployment = of_kind(rendered, "Deployment")[f"gongkai-{service}"]
    *init, main_container = containers(deployment)
    env = env_of(main_container)
    prefix = f"GONGKAI_{service.upper()}_"
    assert env[f"{prefix}NATS_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "gongkai-nats",
        "key": service,
    }
    assert env[f"{prefix}SIGNING_KEY"]["valueFrom"]["secretKeyRef"] == {
        "name": "gongkai-signing",
        "key": service,
    }
    assert main_container["envFrom"] == [{"configMapRef": {"name": "gongkai-config"}}]  # GONGKAI_ROOT_KEY
    for container in containers(deployment):
        for secret, key in secret_refs(container):
            assert key != "*", f"{container['name']} reads the whole Secret {secret}"
            assert secret != "gongkai-root", "a service never holds the root signing key"
            if secret in ("gongkai-nats", "gongkai-signing"):
                assert key == service, f"{service} reads {secret}/{key}"
    for container in init:  # a migration needs only its database role
        assert all(secret.startswith("gongkai-pg-") for secret, _ in secret_refs(container))


def test_only_intake_holds_the_tracking_code_key(rendered: list[dict[str, Any]]) -> None:
    for name, deployment in of_kind(rendered, "Deployment").items():
        refs = {ref for c in containers(deployment) for ref in secret_refs(c)}
        assert ("gongkai-auth", "GONGKAI_AUTH_SECRET") in refs
        holds = ("gongkai-auth", "GONGKAI_TRACKING_SECRET") in refs
        assert holds == (name == "gongkai-intake"), name
    intake = env_of(containers(of_kind(rendered, "Deployment")["gongkai-intake"])[-1])
    assert "GONGKAI_TRACKING_SECRET" in intake


def test_the_setup_job_registers_the_keys_with_the_admin_credential(rendered: list[dict[str, Any]]) -> None:
    job = of_kind(rendered, "Job")["gongkai-setup"]
    [container] = containers(job)
    command = container["command"]
    assert command[:4] == ["gongkai", "setup", "--replicas", "3"]
    keys = [command[i + 1] for i, arg in enumerate(command) if arg == "--key"]
    assert keys == [f"{s}=$(GONGKAI_VKEY_{s.upper()})" for s in SERVICES]
    env = env_of(container)
    assert env["GONGKAI_NATS_USER"]["value"] == "admin"
    assert env["GONGKAI_NATS_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "gongkai-nats",
        "key": "admin",
    }
    assert env["GONGKAI_ROOT_SIGNING_KEY"]["valueFrom"]["secretKeyRef"]["name"] == "gongkai-root"
    assert env["GONGKAI_NATS_URL"]["value"].startswith("nats://")
    for s in SERVICES:  # the verifier keys are public: a ConfigMap
        assert env[f"GONGKAI_VKEY_{s.upper()}"]["valueFrom"]["configMapKeyRef"] == {
            "name": "gongkai-verifier-keys",
            "key": s,
        }


# --- placeholders: none can be left in place -------------------------------------------------------


def test_every_secret_placeholder_is_refused(rendered: list[dict[str, Any]]) -> None:
    secrets = of_kind(rendered, "Secret")
    assert set(secrets["gongkai-nats"]["stringData"]) == {*SERVICES, ADMIN, AUDITOR}
    assert set(secrets["gongkai-signing"]["stringData"]) == set(SERVICES)
    assert set(secrets["gongkai-auth"]["stringData"]) == {"GONGKAI_AUTH_SECRET", "GONGKAI_TRACKING_SECRET"}
    for name, secret in secrets.items():
        for key, value in secret["stringData"].items():
            assert value.startswith("CHANGE-ME"), f"{name}/{key}"
            assert weak_secret(value) == "is still the placeholder"
    for value in [
        *secrets["gongkai-signing"]["stringData"].values(),
        *secrets["gongkai-root"]["stringData"].values(),
    ]:
        with pytest.raises(CheckpointError):
            Signer.from_skey(value)


def test_every_public_key_placeholder_is_refused(rendered: list[dict[str, Any]]) -> None:
    maps = of_kind(rendered, "ConfigMap")
    with pytest.raises(ValueError, match="root verifier key"):
        KeyRing(maps["gongkai-config"]["data"]["GONGKAI_ROOT_KEY"])
    assert set(maps["gongkai-verifier-keys"]["data"]) == set(SERVICES)
    for vkey in maps["gongkai-verifier-keys"]["data"].values():
        with pytest.raises(CheckpointError):
            parse_vkey(vkey)


def test_a_service_refuses_a_placeholder_nats_password() -> None:
    from gongkai_intake.settings import IntakeSettings

    checked = IntakeSettings(nats_password="CHANGE-ME-nats-intake").secrets_to_check()
    assert weak_secret(checked["GONGKAI_INTAKE_NATS_PASSWORD"]) == "is still the placeholder"


def test_keys_generate_prints_a_signing_key_and_its_verifier_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "generate", "review"]) == 0
    out = capsys.readouterr()
    skey, vkey = out.out.splitlines()
    assert Signer.from_skey(skey).vkey() == vkey
    assert vkey.startswith("gongkai-review-")
    assert "Secret gongkai-signing" in out.err
    assert main(["keys", "generate", "root"]) == 0
    assert main(["keys", "generate", "nobody"]) == 2


def test_the_setup_job_refuses_placeholders_before_it_writes_anything(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rule: a placeholder left in the ConfigMaps or Secrets stops `gongkai setup` with its name,
    before it connects (nothing listens at this URL)."""
    root, intake = Signer.generate("root"), Signer.generate("intake")
    keys = [f"--key={s}={Signer.generate(s).vkey()}" for s in SERVICES]
    monkeypatch.setenv("GONGKAI_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GONGKAI_NATS_URL", "nats://127.0.0.1:9")
    monkeypatch.setenv("GONGKAI_NATS_USER", "admin")
    monkeypatch.setenv("GONGKAI_ROOT_SIGNING_KEY", root.skey())
    monkeypatch.setenv("GONGKAI_ROOT_KEY", intake.vkey())
    monkeypatch.setenv("GONGKAI_NATS_PASSWORD", "CHANGE-ME-nats-admin")

    assert main(["setup", "--key", "intake=CHANGE-ME-intake-verifier-key"]) == 2
    assert "--key intake=…: not a verifier key" in capsys.readouterr().err
    assert main(["setup", *keys]) == 2
    assert "GONGKAI_ROOT_KEY is not the verifier key of GONGKAI_ROOT_SIGNING_KEY" in capsys.readouterr().err
    monkeypatch.setenv("GONGKAI_ROOT_KEY", root.vkey())
    assert main(["setup", *keys]) == 2
    assert "GONGKAI_NATS_PASSWORD is still the placeholder" in capsys.readouterr().err


def test_every_alert_reads_a_metric_the_services_export(rendered: list[dict[str, Any]]) -> None:
    """The alert rules are applied with the services, and each reads a metric that exists (a
    renamed metric would silently never alert): projection stopped and lagging, reaction stuck,
    background task failing."""
    import re

    from prometheus_client import REGISTRY

    import gongkai_shared.reactions
    import gongkai_shared.runtime  # noqa: F401 — their metrics register on import

    exported = {m.name + ("_total" if m.type == "counter" else "") for m in REGISTRY.collect()}
    [rules] = of_kind(rendered, "PrometheusRule").values()
    alerts = {r["alert"]: r for g in rules["spec"]["groups"] for r in g["rules"]}
    assert {"GongkaiProjectionStopped", "GongkaiProjectionLagging", "GongkaiReactionStuck",
            "GongkaiBackgroundTaskFailing"} <= set(alerts)  # fmt: skip
    for name, rule in alerts.items():
        metrics = set(re.findall(r"\bgongkai_[a-z_]+", rule["expr"]))
        assert metrics and metrics <= exported, (name, metrics - exported)
        assert rule["labels"]["severity"] in ("warning", "critical") and rule["annotations"]["summary"]


def test_checkpoints_are_signed_and_published_every_hour_without_the_root_key(
    rendered: list[dict[str, Any]],
) -> None:
    """Issue 11: a CronJob makes the signed checkpoints auditors fetch; it holds the checkpoint
    key (a Secret of its own) and the admin NATS credential, never the root signing key."""
    job = of_kind(rendered, "CronJob")["gongkai-checkpoint"]
    assert job["spec"]["schedule"].split()[1:] == ["*", "*", "*", "*"]
    assert job["spec"]["concurrencyPolicy"] == "Forbid"
    [container] = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["gongkai", "audit", "checkpoint", "--publish"]
    refs = secret_refs(container)
    assert ("gongkai-checkpoint", "GONGKAI_CHECKPOINT_KEY") in refs and ("gongkai-nats", "admin") in refs
    assert not any(name == "gongkai-root" for name, _ in refs)
    placeholder = of_kind(rendered, "Secret")["gongkai-checkpoint"]["stringData"]["GONGKAI_CHECKPOINT_KEY"]
    with pytest.raises(CheckpointError):
        Signer.from_skey(placeholder)
