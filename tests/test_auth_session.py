"""The browser session (POST/GET/DELETE /api/v1/auth/session): an HttpOnly cookie plus a CSRF header.

The workspace never holds a token a script could read: the cookie is HttpOnly and SameSite=Strict, and a
write authenticated by it needs X-CSRF-Token (HMAC of the session token under the server's key).
"""
from __future__ import annotations

import hashlib
import hmac
import time

import time_machine
from sqlalchemy import text

from tests.conftest import DEMO_PASSWORD
from tests.processes import permit_files

SESSION = "/api/v1/auth/session"


def _cookie_header(response) -> str:
    cookies = response.headers.getlist("Set-Cookie")
    mine = [c for c in cookies if c.startswith("anjian_session=")]
    assert len(mine) == 1, cookies
    return mine[0]


def _sign_in(client, user="prod1", password=DEMO_PASSWORD):
    r = client.post(SESSION, json={"username": user, "password": password})
    assert r.status_code == 200, r.json
    return r


def test_session_login_sets_an_httponly_strict_cookie_and_answers_user_and_csrf(app, platform):
    client = app.test_client()
    r = _sign_in(client)
    assert r.json["user"] == {"username": "prod1", "display_name": r.json["user"]["display_name"],
                              "department": r.json["user"]["department"], "roles": ["production"]}
    assert r.json["expires_in"] == platform.settings.token_ttl_seconds
    header = _cookie_header(r)
    attrs = {a.strip().split("=")[0].lower(): a.strip() for a in header.split(";")}
    assert "httponly" in attrs and attrs["samesite"] == "SameSite=Strict" and attrs["path"] == "Path=/"
    assert attrs["max-age"] == f"Max-Age={platform.settings.token_ttl_seconds}"
    assert "secure" not in attrs  # plain http here; https requests get Secure (below)
    token = header.split(";")[0].split("=", 1)[1]
    # The same JWT the bearer login issues, and the CSRF token is derived from it, not stored.
    assert platform.users.principal_from_token(token).username == "prod1"
    expected = hmac.new(platform.settings.secret_key.encode(), token.encode(), hashlib.sha256).hexdigest()
    assert r.json["csrf_token"] == expected
    assert token not in r.get_data(as_text=True)  # no token a script could read

    # A reload recovers the user and the CSRF token from the cookie alone.
    again = client.get(SESSION)
    assert again.status_code == 200
    assert again.json["csrf_token"] == expected and again.json["user"]["username"] == "prod1"
    assert 0 < again.json["expires_in"] <= platform.settings.token_ttl_seconds
    # Reads with the cookie need no CSRF header.
    assert client.get("/api/v1/me").json["username"] == "prod1"


def test_secure_cookie_over_https(app):
    r = app.test_client().post(SESSION, json={"username": "prod1", "password": DEMO_PASSWORD},
                               base_url="https://localhost")
    assert "secure" in _cookie_header(r).lower()


def test_wrong_password_is_401_like_the_bearer_login_and_sets_no_cookie(app):
    client = app.test_client()
    r = client.post(SESSION, json={"username": "prod1", "password": "wrong-password"})
    bearer = client.post("/api/v1/auth/login", json={"username": "prod1", "password": "wrong-password"})
    assert r.status_code == bearer.status_code == 401
    assert r.headers["Content-Type"] == "application/problem+json" and r.json["detail"] == bearer.json["detail"]
    assert not [c for c in r.headers.getlist("Set-Cookie") if c.startswith("anjian_session=")]
    assert client.get(SESSION).status_code == 401
    assert client.post(SESSION, json={"username": "nobody", "password": "x"}).status_code == 401
    assert client.post(SESSION, json={"username": "prod1"}).status_code == 422


def test_get_session_without_cookie_is_401_even_with_a_bearer_token(api):
    r = api.get(SESSION, "prod1")
    assert r.status_code == 401 and r.headers["Content-Type"] == "application/problem+json"


def test_cookie_writes_need_the_csrf_header_and_store_nothing_without_it(app, api, platform):
    assert api.deploy(permit_files()).status_code == 201
    started = api.post("/api/v1/process-instances", "prod1", json={"process_key": "permit", "business_key": "C1"})
    task = started.json["active_tasks"][0]["id"]
    client = app.test_client()
    csrf = _sign_in(client).json["csrf_token"]

    for headers in ({}, {"X-CSRF-Token": "0" * 64}, {"X-CSRF-Token": csrf[:-1]}):
        r = client.post(f"/api/v1/tasks/{task}/claim", headers=headers)
        assert r.status_code == 403, r.json
        assert r.headers["Content-Type"] == "application/problem+json" and r.json["reason"] == "csrf"
        assert api.get(f"/api/v1/tasks/{task}", "prod1").json["assignee"] is None  # the claim did not happen
    r = client.post("/api/v1/process-instances", json={"process_key": "permit"})
    assert r.status_code == 403 and r.json["reason"] == "csrf"
    assert api.get("/api/v1/process-instances?process_key=permit", "admin").json["total"] == 1

    r = client.post(f"/api/v1/tasks/{task}/claim", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.json["assignee"] == "prod1"
    # Another user's CSRF token does not fit this session.
    other = app.test_client()
    other_csrf = _sign_in(other, "prod2").json["csrf_token"]
    assert client.post(f"/api/v1/tasks/{task}/unclaim", headers={"X-CSRF-Token": other_csrf}).status_code == 403


def test_bearer_still_works_and_wins_over_a_cookie(app, api, platform):
    client = app.test_client()
    _sign_in(client, "prod1")
    token = client.post("/api/v1/auth/login", json={"username": "leader1", "password": DEMO_PASSWORD}).json[
        "access_token"]
    # The bearer header decides who acts (no CSRF needed: no browser sends it on its own).
    r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert r.json["username"] == "leader1"
    assert client.post("/api/v1/process-instances", json={"process_key": "nope"},
                       headers={"Authorization": f"Bearer {token}"}).status_code != 403
    # A malformed Authorization header is not silently replaced by the cookie.
    assert client.get("/api/v1/me", headers={"Authorization": "Basic eDp5"}).status_code == 401


def test_logout_clears_the_cookie(app):
    client = app.test_client()
    _sign_in(client)
    r = client.delete(SESSION)
    assert r.status_code == 204
    cleared = _cookie_header(r)
    assert "Max-Age=0" in cleared or "expires=Thu, 01 Jan 1970" in cleared
    assert client.get("/api/v1/me").status_code == 401
    assert client.get(SESSION).status_code == 401
    assert client.delete(SESSION).status_code == 204  # signing out twice is fine


def test_deactivating_the_user_ends_the_cookie_session(app, platform):
    platform.users.add_user("sess_tmp", DEMO_PASSWORD, ["production"], "workshop-1", replace=True)
    client = app.test_client()
    with time_machine.travel(time.time(), tick=False) as clock:
        _sign_in(client, "sess_tmp")
        assert client.get("/api/v1/me").status_code == 200
        with platform.db.session() as s:
            s.execute(text("UPDATE users SET active = false WHERE username = 'sess_tmp'"))
        clock.shift(platform.settings.auth_refresh_seconds + 0.01)
        r = client.get("/api/v1/me")
        assert r.status_code == 401 and "deactivated" in r.json["detail"]
        assert client.get(SESSION).status_code == 401
