"""What `make run` prints first: the workspace URL and who to log in as."""
from engine.sample_plant import DEMO_PARTS, USERS, demo_banner


def test_banner_names_the_url_and_only_users_the_seed_creates():
    banner = demo_banner("http://127.0.0.1:8000/")
    first = banner.splitlines()[0]
    assert "http://127.0.0.1:8000/" in first and "api/docs" in first
    seeded = {u[0] for u in USERS}
    assert set(DEMO_PARTS) <= seeded, "the banner names a user the sample plant does not have"
    for username in ("worker1", "prod1", "leader1", "safety1"):
        assert f"  {username} " in banner
    assert "anjian-demo" in banner
