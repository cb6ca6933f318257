"""The rows of a service's table of contents (its ``app.py``): every route and every reaction in
one place, each with what it takes, the rule it applies and who may use it.

The table is data, checked against the app (tests/unit/test_contents.py): a route the service
serves that is not in its table, or a row the app does not serve, fails the test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Route:
    """``method path``: served by ``endpoint``, open to ``who``; a command names its input model
    and its rule (a pure function of the service's domain.py), a read names neither."""

    method: str
    path: str
    endpoint: Callable[..., Any]
    who: str
    input: type | None = None
    rule: Callable[..., Any] | None = None


@dataclass(frozen=True)
class OnEvent:
    """Events on ``subject`` (durable consumer ``durable``) handled by ``handler``, which applies
    ``rules`` (pure functions of domain.py) and may append ``appends``."""

    subject: str
    durable: str
    handler: Callable[..., Any]
    rules: tuple[Callable[..., Any], ...]
    appends: tuple[str, ...]
