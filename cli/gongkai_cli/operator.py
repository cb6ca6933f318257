"""What only the operator does, with the administrator credential and the root key.

Creating (or restoring the settings of) the stream, registering the services' signing keys and
creating agencies' durable consumers. ``gongkai-up`` runs :func:`setup` before it starts the
services; in Kubernetes the ``gongkai setup`` Job does; a running service never holds these
credentials.
"""

from __future__ import annotations

from dataclasses import replace

import structlog
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from gongkai_shared.access import ADMIN, PUBLIC_SUBJECTS, agency_durable
from gongkai_shared.checkpoint import Signer
from gongkai_shared.eventstore import EventStore, connect
from gongkai_shared.files import ensure_bucket
from gongkai_shared.tlog import ensure_checkpoint_stream, load_checkpoint_keys
from gongkai_shared.trust import TRUST, CheckpointKeyRegistered, EventSigner, append_trust, key_ref, provision

log = structlog.get_logger(__name__)


async def admin_store(url: str, password: str, stream: str = "FOI", root: Signer | None = None,
                      **options: object) -> EventStore:  # fmt: skip
    nc = await connect(url, "gongkai-operator", user=ADMIN, password=password, **options)
    return EventStore(nc, stream, EventSigner(TRUST, root) if root else None)


def agency_consumer_config(name: str) -> ConsumerConfig:
    """The agency's durable: every public event (``PUBLIC_SUBJECTS``) from the first one."""
    return ConsumerConfig(
        durable_name=agency_durable(name),
        filter_subjects=list(PUBLIC_SUBJECTS),
        deliver_policy=DeliverPolicy.ALL,
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=60,
        description=f"public events for agency {name}",
    )


async def ensure_agency_consumer(store: EventStore, name: str) -> None:
    """The agency's own durable consumer of the public events, from the first one. Idempotent:
    an existing durable keeps its position, and one created when fewer events were public (before
    ``amended`` and ``repealed``) gets the current filter, so the agency receives the new types
    from its position on (and all of them after a reset: docs/agencies.md)."""
    config = agency_consumer_config(name)
    try:
        info = await store.js.consumer_info(store.stream, config.durable_name or "")
    except NotFoundError:
        await store.js.add_consumer(store.stream, config)
        log.info("agency_consumer_created", agency=name, durable=config.durable_name)
        return
    have = info.config.filter_subjects or ([info.config.filter_subject] if info.config.filter_subject else [])
    if sorted(have) != sorted(PUBLIC_SUBJECTS):
        # a durable's filter may change in place (nats-server >= 2.10); its position stays
        # (a create with the same name and the changed filter is an update)
        changed = replace(info.config, filter_subject=None, filter_subjects=list(PUBLIC_SUBJECTS))
        await store.js.add_consumer(store.stream, changed)
        log.info("agency_consumer_updated", agency=name, durable=config.durable_name, filter=PUBLIC_SUBJECTS)


async def setup(
    store: EventStore,
    root_vkey: str,
    service_vkeys: dict[str, str],
    agencies: list[str] = (),  # type: ignore[assignment]
    replicas: int = 1,
    checkpoint_vkey: str | None = None,
) -> list[str]:
    """Stream, signing keys, agencies' consumers: everything the services need before they start;
    the published checkpoints' stream, and ``checkpoint_vkey`` registered unless it already is."""
    await store.ensure_stream(replicas)
    await ensure_bucket(store.js, replicas)  # the files' object store, as many replicas
    await ensure_checkpoint_stream(store.js, replicas)
    added = await provision(store, root_vkey, service_vkeys)
    if checkpoint_vkey is not None:
        keys = await load_checkpoint_keys(store, root_vkey)
        ref = key_ref(checkpoint_vkey)
        if ref not in keys.keys:
            await append_trust(store, CheckpointKeyRegistered(vkey=checkpoint_vkey, note="provisioned"))
            added.append(ref)
    for name in agencies:
        await ensure_agency_consumer(store, name)
    return added
