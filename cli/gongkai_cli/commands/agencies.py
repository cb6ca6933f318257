"""``gongkai agencies add``: another agency's read-only access to the public events."""

from __future__ import annotations

import asyncio
import os
import signal
from argparse import Namespace

from nats.errors import TimeoutError as NatsTimeout
from nats.js.errors import ServiceUnavailableError

from gongkai_shared.access import (
    ADMIN,
    NATS_SECRET,
    agency_durable,
    agency_user,
    check_agency_name,
    with_accounts,
)

from .. import connections, credentials
from ..installation import Installation
from ..operator import ensure_agency_consumer
from ..settings import CliError, CliSettings


async def add(settings: CliSettings, args: Namespace) -> int:
    """Credentials for another agency (read-only, public events) and its durable consumer.

    On the embedded runtime the password is generated into the data folder and nats-server
    reloads its accounts. Elsewhere (Kubernetes) the broker's accounts come from the Helm values
    and the password from the Secret gongkai-nats, so only the consumer is created here."""
    name = args.name
    try:
        check_agency_name(name)
    except ValueError as e:
        raise CliError(str(e)) from None
    install = credentials.installation(settings)
    embedded = (install.data_dir / "nats-server.conf").exists()
    password = install.add_agency(name) if embedded else None
    if embedded:
        _reload_embedded_nats(install)
    store = await connections.store(settings, ADMIN)
    try:
        await _after_reload(ensure_agency_consumer, store, name)
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


async def _after_reload(action, *args):  # noqa: ANN001, ANN002, ANN202
    """Run ``action`` once the broker answers again: a reloaded nats-server's JetStream may answer
    "service unavailable" for a moment after the SIGHUP."""
    for attempt in range(20):
        try:
            return await action(*args)
        except (ServiceUnavailableError, NatsTimeout):
            if attempt == 19:
                raise CliError("NATS JetStream did not answer after the reload: try again") from None
            await asyncio.sleep(0.25 * (attempt + 1))
    return None


def _reload_embedded_nats(install: Installation) -> None:
    """Rewrite the embedded nats-server's accounts and have it reload them (SIGHUP)."""
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
