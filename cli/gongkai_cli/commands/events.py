"""``gongkai events asyncapi``: the event catalogue auditors read; ``--public``: the public
events' document other agencies read (publishing serves it at /api/v1/events/asyncapi.json)."""

from __future__ import annotations

import sys
from argparse import Namespace

from gongkai_shared.public_events import public_asyncapi_json

from ..catalogue import asyncapi_json
from ..settings import CliSettings


def asyncapi(settings: CliSettings, args: Namespace) -> int:
    sys.stdout.write(public_asyncapi_json() if getattr(args, "public", False) else asyncapi_json())
    return 0
