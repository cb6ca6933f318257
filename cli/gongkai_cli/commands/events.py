"""``gongkai events asyncapi``: the event catalogue other agencies and auditors read."""

from __future__ import annotations

import sys
from argparse import Namespace

from ..catalogue import asyncapi_json
from ..settings import CliSettings


def asyncapi(settings: CliSettings, args: Namespace) -> int:
    sys.stdout.write(asyncapi_json())
    return 0
