"""Intake's public surface without servers: token buckets, who the client is behind a proxy,
and what an Idempotency-Key is bound to."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from starlette.requests import Request

from gongkai_intake.domain import ApplicationFields, Apply, Registration, receive, same_request
from gongkai_intake.ratelimit import Rate, RateLimits, TokenBuckets, client_address, networks
from gongkai_intake.settings import IntakeSettings
from gongkai_shared.envelope import Actor
from gongkai_shared.events import RequestReceived

APPLICATION = {
    "applicant": {"name": "王五", "type": "natural_person", "contact": {"email": "wangwu@example.cn"}},
    "description": "2025年本区老旧小区改造项目清单",
    "form": "electronic",
    "delivery": "email",
}


class Ticks:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_rates_parse_and_bad_ones_refuse_to_start() -> None:
    assert Rate.parse("20/hour") == Rate(20, 3600)
    assert Rate.parse(" 5 / seconds ") == Rate(5, 1)
    assert Rate.parse("off") is None
    for bad in ("20", "0/minute", "x/hour", "3/fortnight"):
        with pytest.raises(ValueError):
            Rate.parse(bad)
    with pytest.raises(ValueError):
        IntakeSettings(rate_lookups="lots")
    with pytest.raises(ValueError):
        IntakeSettings(trusted_proxies="the edge")


def test_a_bucket_allows_a_burst_then_one_per_interval() -> None:
    ticks = Ticks()
    buckets = TokenBuckets(Rate(3, 60), now=ticks)
    assert [buckets.take("a") for _ in range(3)] == [0, 0, 0]
    assert buckets.take("a") == pytest.approx(20)  # one token every 20 s
    assert buckets.take("b") == 0  # each client its own
    ticks.t += 20
    assert buckets.take("a") == 0
    assert buckets.take("a") == pytest.approx(20)
    ticks.t += 3600  # refills up to the burst, not beyond
    assert [buckets.take("a") for _ in range(4)][-1] > 0


def test_the_bucket_table_is_bounded() -> None:
    buckets = TokenBuckets(Rate(1, 60), now=Ticks(), max_clients=100)
    for i in range(1000):
        buckets.take(f"10.0.{i // 256}.{i % 256}")
    assert len(buckets._buckets) == 100


def request(peer: str, *forwarded: str) -> Request:
    headers = [(b"x-forwarded-for", v.encode()) for v in forwarded]
    return Request({"type": "http", "client": (peer, 5000), "headers": headers, "method": "GET", "path": "/"})


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("203.0.113.9", ["198.51.100.1"], "203.0.113.9"),  # not from the proxy: the header is ignored
        ("127.0.0.1", [], "127.0.0.1"),
        ("127.0.0.1", ["198.51.100.1"], "198.51.100.1"),
        # a client that writes its own header cannot choose its address: read from the right
        ("127.0.0.1", ["6.6.6.6, 198.51.100.1"], "198.51.100.1"),
        ("127.0.0.1", ["6.6.6.6", "198.51.100.1"], "198.51.100.1"),
        ("127.0.0.1", ["198.51.100.1, 10.1.2.3"], "198.51.100.1"),  # 10/8 is a trusted proxy too
        ("127.0.0.1", ["not-an-address"], "127.0.0.1"),
        ("127.0.0.1", ["2001:db8::1"], "2001:db8::1"),
    ],
)
def test_the_client_behind_a_trusted_proxy(peer: str, forwarded: list[str], client: str) -> None:
    assert client_address(request(peer, *forwarded), networks("127.0.0.1, 10.0.0.0/8")) == client


def test_retry_after_is_whole_seconds() -> None:
    limits = RateLimits({"lookups": Rate(1, 3600), "applications": None}, "127.0.0.1")
    assert limits.retry_after(request("198.51.100.1"), "lookups") is None
    assert limits.retry_after(request("198.51.100.1"), "lookups") == 3600
    assert all(limits.retry_after(request("198.51.100.1"), "applications") is None for _ in range(100))


def test_an_application_can_be_read_back_from_its_event() -> None:
    """The Idempotency-Key is bound to the body by reading the body back from the stored event:
    every field of the request must be in ``request-received``."""
    for model in (Apply, Registration):
        assert set(model.model_fields) <= set(RequestReceived.model_fields)
    assert "received_on" not in Apply.model_fields and issubclass(Apply, ApplicationFields)


def event_data(cmd: Apply | Registration) -> dict:
    env = receive(cmd, case_id="c", tracking_hash="h", today=date(2026, 3, 2),
                  now=datetime(2026, 3, 2, 2, tzinfo=UTC), actor=Actor(id="x", role="applicant"))  # fmt: skip
    return env.data


def test_same_request_means_the_same_body_whatever_its_spelling() -> None:
    cmd = Apply.model_validate(APPLICATION)
    stored = event_data(cmd)
    assert same_request(
        Apply.model_validate({**APPLICATION, "description": f" {APPLICATION['description']}  "}), stored
    )
    assert same_request(Apply.model_validate({**APPLICATION, "channel": "online", "purpose": None}), stored)
    assert not same_request(Apply.model_validate({**APPLICATION, "form": "paper"}), stored)
    letter = Registration.model_validate({**APPLICATION, "channel": "letter", "received_on": "2026-02-27"})
    assert not same_request(letter, stored) and not same_request(cmd, event_data(letter))
    assert same_request(letter, event_data(letter))
    later = Registration.model_validate({**APPLICATION, "channel": "letter", "received_on": "2026-02-26"})
    assert not same_request(later, event_data(letter))
