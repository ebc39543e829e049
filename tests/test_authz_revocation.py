"""Issue 12 §2: a change to a user takes effect for tokens already issued, on every process.

The changes here are written straight into the database, as another server process
(or an admin on another node) would make them: nothing tells this process but the data.
"""
import time
import uuid

import pytest
import time_machine
from sqlalchemy import text

from api.app import create_app
from engine.platform import Platform
from engine.users import hash_password
from tests.conftest import DEMO_PASSWORD
from tests.processes import permit_files


@pytest.fixture
def temp_user(platform):
    """A fresh user per test (the session's sample users stay as they are)."""
    def make(roles, department=None):
        name = f"u{uuid.uuid4().hex[:10]}"
        platform.users.add_user(name, DEMO_PASSWORD, roles, department)
        return name
    return make


def _login(client, username, password=DEMO_PASSWORD):
    r = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.json
    return {"Authorization": f"Bearer {r.json['access_token']}"}


def _sql(platform, statement, **params):
    with platform.db.session() as s:
        s.execute(text(statement), params)


def _later(platform):
    """Just past the refresh period, which is at most 10 s."""
    assert 0 < platform.settings.auth_refresh_seconds <= 10
    return platform.settings.auth_refresh_seconds + 0.01


def test_a_deactivated_users_token_stops_working_within_the_refresh_period(api, platform, temp_user):
    name = temp_user(["production"], "workshop-1")
    with time_machine.travel(time.time(), tick=False) as clock:
        auth = _login(api.client, name)
        assert api.get("/api/v1/me", headers=auth).status_code == 200
        _sql(platform, "UPDATE users SET active = false WHERE username = :u", u=name)
        clock.shift(_later(platform))
        r = api.get("/api/v1/me", headers=auth)
        assert r.status_code == 401 and r.headers["Content-Type"] == "application/problem+json"
        assert "deactivated" in r.json["detail"]
        assert api.client.post("/api/v1/auth/login", json={"username": name, "password": DEMO_PASSWORD}
                               ).status_code == 401


def test_a_password_reset_invalidates_tokens_issued_before(api, platform, temp_user):
    name = temp_user(["production"], "workshop-1")
    with time_machine.travel(time.time(), tick=False) as clock:
        old = _login(api.client, name)
        _sql(platform, "UPDATE users SET password_hash = :h, token_epoch = token_epoch + 1 WHERE username = :u",
             h=hash_password("a-new-password"), u=name)
        clock.shift(_later(platform))
        r = api.get("/api/v1/me", headers=old)
        assert r.status_code == 401 and "revoked" in r.json["detail"]
        new = _login(api.client, name, "a-new-password")
        assert api.get("/api/v1/me", headers=new).json["username"] == name


def test_a_role_change_shows_in_me_and_a_demoted_supervisor_can_no_longer_cancel(api, platform, temp_user):
    name = temp_user(["supervision"], "safety")
    assert api.deploy(permit_files()).status_code == 201
    first = api.post("/api/v1/process-instances", "prod1", json={"process_key": "permit"}).json
    second = api.post("/api/v1/process-instances", "prod1", json={"process_key": "permit"}).json
    with time_machine.travel(time.time(), tick=False) as clock:
        auth = _login(api.client, name)
        r = api.client.post(f"/api/v1/process-instances/{first['id']}/cancel", headers=auth, json={"reason": "test"})
        assert r.status_code == 200, r.json
        _sql(platform, "UPDATE user_roles SET role = 'worker' WHERE user_id = (SELECT id FROM users WHERE "
                       "username = :u)", u=name)
        clock.shift(_later(platform))
        assert api.get("/api/v1/me", headers=auth).json["roles"] == ["worker"]
        r = api.client.post(f"/api/v1/process-instances/{second['id']}/cancel", headers=auth, json={"reason": "x"})
        assert r.status_code in (403, 404)
        assert api.get(f"/api/v1/process-instances/{second['id']}", "safety1").json["status"] == "running"


def test_a_department_change_moves_the_users_scope(api, platform, temp_user):
    name = temp_user(["production"], "workshop-1")
    assert api.deploy(permit_files()).status_code == 201
    inst = api.post("/api/v1/process-instances", "prod2", json={"process_key": "permit"}).json  # storage
    with time_machine.travel(time.time(), tick=False) as clock:
        auth = _login(api.client, name)
        assert api.client.get("/api/v1/tasks?mine=true", headers=auth).json["total"] == 0
        _sql(platform, "UPDATE users SET department = 'storage' WHERE username = :u", u=name)
        clock.shift(_later(platform))
        items = api.client.get("/api/v1/tasks?mine=true", headers=auth).json["items"]
        assert [t["instance_id"] for t in items] == [inst["id"]]


def test_the_change_reaches_another_server_process_on_the_same_database(api, platform, temp_user):
    """Two Platforms (two server processes) on one database: a change made through one
    is enforced by the other within the refresh period."""
    name = temp_user(["production"], "workshop-1")
    other = Platform(platform.settings)
    try:
        other_client = create_app(platform=other).test_client()
        with time_machine.travel(time.time(), tick=False) as clock:
            auth = _login(api.client, name)  # token issued by the first process
            assert other_client.get("/api/v1/me", headers=auth).json["roles"] == ["production"]
            platform.users.add_user(name, "another-password", ["production"], "workshop-1", replace=True)
            # The process that made the change knows at once; the other one within the period.
            assert api.get("/api/v1/me", headers=auth).status_code == 401
            clock.shift(_later(platform))
            assert other_client.get("/api/v1/me", headers=auth).status_code == 401
            assert other_client.get("/api/v1/me", headers=_login(other_client, name, "another-password")
                                    ).status_code == 200
    finally:
        other.close()


def test_the_refresh_period_is_a_setting_of_at_most_ten_seconds(tmp_path):
    from engine.config import Settings

    base = {"ANJIAN_DATA_DIR": str(tmp_path), "ANJIAN_SECRET_KEY": "x" * 40}
    assert Settings.from_env(base).auth_refresh_seconds == 5
    assert Settings.from_env({**base, "ANJIAN_AUTH_REFRESH_SECONDS": "2"}).auth_refresh_seconds == 2
    with pytest.raises(ValueError, match="ANJIAN_AUTH_REFRESH_SECONDS"):
        Settings.from_env({**base, "ANJIAN_AUTH_REFRESH_SECONDS": "30"})
