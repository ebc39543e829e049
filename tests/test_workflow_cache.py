"""The per-process workflow cache: reused only while the database holds exactly its state."""
from engine.config import Settings
from engine.platform import Platform
from engine.principal import Principal
from engine.workflow_cache import WorkflowCache
from tests.processes import permit_files

PROD = Principal("prod1", frozenset({"production"}), "workshop-1")
LEADER = Principal("leader1", frozenset({"team_leader"}), "workshop-1")
SAFETY = Principal("safety1", frozenset({"supervision"}), "safety")


def test_cache_returns_a_workflow_only_for_the_same_stored_state_and_stays_bounded():
    cache = WorkflowCache(2)
    wf = object()
    cache.put(1, "state-a", wf)
    assert cache.take(1, "state-b") is None          # the database moved on: miss
    assert cache.take(1, "state-a") is None          # and the stale entry is gone
    cache.put(1, "state-a", wf)
    assert cache.take(1, "state-a") is wf
    assert cache.take(1, "state-a") is None          # taken: a concurrent request cannot share it
    for i in range(3):
        cache.put(i, f"s{i}", wf)
    assert cache.take(0, "s0") is None and cache.take(2, "s2") is wf   # least recently used evicted
    off = WorkflowCache(0)
    off.put(1, "s", wf)
    assert off.take(1, "s") is None


def _step(platform, principal, inst_id, bpmn_id, data):
    task = next(t for t in platform.tasks.list(principal, instance_id=inst_id, state="ready")["items"]
                if t["bpmn_id"] == bpmn_id)
    return platform.tasks.complete(principal, task["id"], data)


def test_a_change_made_by_another_process_is_never_hidden_by_the_cache(platform):
    platform.deployments.deploy({k: v.encode() for k, v in permit_files().items()}, "designer1")
    other = Platform(Settings.from_env({"ANJIAN_DATA_DIR": str(platform.settings.data_dir),
                                        "DATABASE_URL": platform.settings.database_url,
                                        "ANJIAN_SECRET_KEY": platform.settings.secret_key}))
    try:
        inst = platform.instances.start(PROD, "permit", "cache-1")
        _step(platform, PROD, inst["id"], "apply", {"content": "动火", "workers": 2})
        hits = platform.runner.workflow_cache.hits
        # The next step in this process reuses the workflow it saved ...
        _step(platform, LEADER, inst["id"], "site_check", {})
        assert platform.runner.workflow_cache.hits == hits + 1
        # ... another process completes the review; this process's entry is now stale ...
        _step(other, SAFETY, inst["id"], "review", {"approved": True})
        misses = platform.runner.workflow_cache.misses
        # ... so the approval here must run on the stored state, where 'approve' is ready.
        boss = Principal("boss1", frozenset({"plant_leader"}), "leadership")
        _step(platform, boss, inst["id"], "approve", {})
        assert platform.runner.workflow_cache.misses == misses + 1
        after = platform.instances.get(SAFETY, inst["id"])
        assert after["variables"]["approved"] is True
        assert [e["kind"] for e in after["timeline"]] == ["start"] + ["complete"] * 4
    finally:
        other.close()
