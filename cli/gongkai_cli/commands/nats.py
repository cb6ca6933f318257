"""``gongkai nats helm-values``: the broker's accounts for the official NATS Helm chart."""

from __future__ import annotations

import sys
from argparse import Namespace

from gongkai_shared.access import helm_values

from ..settings import CliError, CliSettings


def helm(settings: CliSettings, args: Namespace) -> int:
    """The NATS accounts as Helm values, passwords as references to Secret gongkai-nats."""
    try:
        sys.stdout.write(helm_values(args.agency))
    except ValueError as e:
        raise CliError(str(e)) from None
    return 0
