"""Rate limits per client on the public surface: a token bucket per client address, in memory.

A rate ``N/minute`` lets a client make N requests at once, then one more every minute/N. The
client is the peer address, unless the peer is a trusted proxy (``GONGKAI_INTAKE_TRUSTED_PROXIES``):
then it is the nearest address in ``X-Forwarded-For`` that is not a trusted proxy itself, read
from the right, so an address a client wrote into the header cannot stand in for its own.
Each replica counts for itself (docs/decisions.md).
"""

from __future__ import annotations

import math
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

from starlette.requests import Request

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
Network = IPv4Network | IPv6Network


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Rate | None:
        """``"20/hour"``, ``"60/minute"``, ``"5/second"``, ``"100/day"``; ``"off"``: no limit."""
        if text.strip().lower() in ("off", "none", "0"):
            return None
        m = re.fullmatch(r"\s*(\d+)\s*/\s*(second|minute|hour|day)s?\s*", text.lower())
        if m is None or int(m.group(1)) <= 0:
            raise ValueError(f"a rate is N/second, N/minute, N/hour, N/day or off, not {text!r}")
        return cls(int(m.group(1)), PERIODS[m.group(2)])


class TokenBuckets:
    """One bucket per client, at most ``max_clients`` of them (the least recently seen go first:
    a client forgotten that way starts again with a full bucket)."""

    def __init__(
        self, rate: Rate, now: Callable[[], float] = time.monotonic, max_clients: int = 100_000
    ) -> None:
        self.rate, self.now, self.max_clients = rate, now, max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # client -> (tokens, at)

    def take(self, client: str) -> float:
        """Take a token for ``client``: 0 if it had one, else the seconds until it will."""
        now, per_token = self.now(), self.rate.seconds / self.rate.count
        tokens, at = self._buckets.pop(client, (float(self.rate.count), now))
        tokens = min(float(self.rate.count), tokens + (now - at) / per_token)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) * per_token
        self._buckets[client] = (tokens, now)
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        return wait


def networks(text: str) -> tuple[Network, ...]:
    """``"127.0.0.1, 10.0.0.0/8, ::1"``: addresses and networks, comma-separated."""
    return tuple(ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip())


def _trusted(address: str, trusted: Iterable[Network]) -> bool:
    try:
        ip = ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in trusted)


def client_address(request: Request, trusted: tuple[Network, ...]) -> str:
    peer = request.client.host if request.client else ""
    if not _trusted(peer, trusted):
        return peer
    hops = [h.strip() for v in request.headers.getlist("x-forwarded-for") for h in v.split(",")]
    for hop in reversed([h for h in hops if h]):
        if _trusted(hop, trusted):
            continue
        try:
            return str(ip_address(hop))
        except ValueError:  # what a trusted proxy passed on is not an address: count the proxy
            return peer
    return peer


class RateLimits:
    """The public surface's limits: ``applications`` (API and form) and ``lookups`` (tracking
    by code through the API or the page, and withdrawal)."""

    def __init__(self, rates: dict[str, Rate | None], trusted_proxies: str) -> None:
        self.trusted = networks(trusted_proxies)
        self.buckets = {kind: TokenBuckets(rate) for kind, rate in rates.items() if rate is not None}

    def retry_after(self, request: Request, kind: str) -> int | None:
        """Whole seconds to wait before asking again, or None when the request may go ahead."""
        buckets = self.buckets.get(kind)
        if buckets is None:
            return None
        wait = buckets.take(client_address(request, self.trusted))
        return max(1, math.ceil(wait)) if wait > 0 else None
