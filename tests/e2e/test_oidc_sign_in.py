"""Single sign-on (issue 8): an OIDC provider replaces local passwords.

The provider is a real OIDC server on loopback (``oidc-provider-mock``, run in a thread by the
test); review talks to it over HTTP (discovery, token endpoint, JWKS) and the test follows the
browser's redirects by hand: review -> provider's authorization page -> review's callback.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from oidc_provider_mock import run_server_in_thread

from gongkai_shared.auth import Role, operator_token
from tests.harness import SECRET, System
from tests.servers import NatsServer

pytestmark = pytest.mark.integration
OPERATOR = {"Authorization": f"Bearer {operator_token(SECRET)}"}
CLIENT_ID = "gongkai-review"
REVIEW = "http://test"  # review is served through the ASGI transport; the provider over HTTP


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")  # plain HTTP on loopback, in tests only
    with run_server_in_thread(require_nonce=True) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture
async def system(nats_server: NatsServer, database_url: str, provider: str):  # noqa: ANN201
    oidc = {
        "oidc_issuer": provider,
        "oidc_client_id": CLIENT_ID,
        "oidc_client_secret": "client-secret",
        "oidc_redirect_url": f"{REVIEW}/staff/sign-in/oidc/callback",
    }
    s = await System(nats_server, database_url, review=oidc).start("review")
    yield s
    await s.stop()


async def add_user(system: System, login: str, password: str | None = None) -> dict:
    body = {"login": login, "display_name": "赵统一", "roles": [Role.reviewer.value]}
    if password:
        body["password"] = password
    r = await system.clients["review"].post("/api/v1/users", json=body, headers=OPERATOR)
    assert r.status_code == 201, r.text
    await system.settle()
    return r.json()


async def sign_in_at_provider(
    system: System, provider: str, sub: str, login: str, *, tamper: bool = False
) -> httpx.Response:
    """Follow the flow as a browser would; the provider's user ``sub`` has the given login."""
    review = system.clients["review"]
    async with httpx.AsyncClient(timeout=10) as browser:
        r = await browser.put(f"{provider}/users/{sub}", json={"preferred_username": login})
        assert r.status_code == 204, r.text
        start = await review.get("/staff/sign-in/oidc")
        assert start.status_code == 302, start.text
        assert start.cookies["gongkai_oidc"]  # kept by the client's cookie jar, as a browser would
        assert "httponly" in start.headers["set-cookie"].lower()
        assert "samesite=lax" in start.headers["set-cookie"].lower()
        authorize = start.headers["location"]
        query = parse_qs(urlsplit(authorize).query)
        assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
        assert (await browser.get(authorize)).status_code == 200  # the provider's consent page
        consent = await browser.post(authorize, data={"sub": sub})
        assert consent.status_code in (302, 303), consent.text
        back = consent.headers["location"]
        assert back.startswith(f"{REVIEW}/staff/sign-in/oidc/callback?")
        if tamper:
            back = back.replace("state=", "state=x")
        return await review.get(back.removeprefix(REVIEW))


async def test_a_staff_member_signs_in_through_the_provider(system: System, provider: str) -> None:
    page = await system.clients["review"].get("/staff/sign-in")
    assert "使用统一身份认证登录" in page.text and 'type="password"' not in page.text
    await add_user(system, "zhao.sso")
    r = await sign_in_at_provider(system, provider, "sub-zhao", "zhao.sso")
    assert r.status_code == 200, r.text
    assert "登录成功：赵统一" in r.text
    token = r.text.split('<p class="token">')[1].split("</p>")[0].strip()
    cases = await system.clients["review"].get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"})
    assert cases.status_code == 200, cases.text


async def test_an_unknown_login_is_refused(system: System, provider: str) -> None:
    r = await sign_in_at_provider(system, provider, "sub-nobody", "nobody.here")
    assert r.status_code == 403
    assert "没有工作人员账号" in r.text and "Traceback" not in r.text
    assert '<p class="token">' not in r.text


async def test_a_tampered_state_is_refused(system: System, provider: str) -> None:
    await add_user(system, "qian.sso")
    r = await sign_in_at_provider(system, provider, "sub-qian", "qian.sso", tamper=True)
    assert r.status_code == 401 and "state" in r.text
    assert '<p class="token">' not in r.text
    review = system.clients["review"]
    review.cookies.clear()
    review.cookies.set("gongkai_oidc", "e30.bad")  # not signed with the key
    forged = await review.get("/staff/sign-in/oidc/callback?code=abc&state=abc")
    assert forged.status_code == 401 and "重新登录" in forged.text


async def test_local_passwords_are_refused_when_oidc_is_on(system: System) -> None:
    await add_user(system, "sun.local", password="correct horse battery")
    review = system.clients["review"]
    r = await review.post(
        "/api/v1/auth/sign-in", json={"login": "sun.local", "password": "correct horse battery"}
    )
    assert r.status_code == 403 and "统一身份认证" in r.json()["message"]
    form = await review.post(
        "/staff/sign-in", data={"login": "sun.local", "password": "correct horse battery"}
    )
    assert form.status_code == 403 and "统一身份认证" in form.text
