"""The anjian CLI against a fresh embedded database in a temporary data folder."""
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import permit_files

ANJIAN = str(Path(sys.executable).parent / "anjian")


@pytest.fixture
def cli(tmp_path):
    env = {"ANJIAN_DATA_DIR": str(tmp_path / "var"), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}

    def run(*args, ok=True):
        r = subprocess.run([ANJIAN, *args], env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
        if ok:
            assert r.returncode == 0, r.stdout + r.stderr
        return r
    return run


def test_migrate_deploy_user_and_validate(cli, tmp_path):
    assert "up to date" in cli("migrate").stdout
    assert "up to date" in cli("migrate").stdout  # idempotent
    lib = tmp_path / "lib"
    lib.mkdir()
    for name, text in permit_files().items():
        (lib / name).write_text(text, encoding="utf-8")
    assert "ok  permit" in cli("bpmn", "validate", str(lib)).stdout
    # Tooling inside a library folder (the generator's node layout tool) is not deployed.
    (lib / "tools" / "layout" / "node_modules" / "x").mkdir(parents=True)
    (lib / "tools" / "layout" / "package.json").write_text('{"type": "module"}', encoding="utf-8")
    (lib / "tools" / "layout" / "node_modules" / "x" / "package.json").write_text("{}", encoding="utf-8")
    out = cli("deploy", str(lib)).stdout
    assert "permit" in out and "v1" in out and "new version" in out
    assert "unchanged" in cli("deploy", str(lib)).stdout
    bad = lib / "bad.bpmn"
    bad.write_text(permit_files()["permit.bpmn"].replace('id="permit"', 'id="bad"').replace(
        "<bpmn:flowNodeRef>apply</bpmn:flowNodeRef>", ""), encoding="utf-8")
    r = cli("bpmn", "validate", str(bad), str(lib / "apply.json"), str(lib / "review.json"), ok=False)
    assert r.returncode == 2 and "bad.bpmn" in r.stderr and "[apply]" in r.stderr and "outside any lane" in r.stderr
    r = cli("user", "add", "wang", "--password", "secret-pass", "--role", "production", ok=False)
    assert r.returncode == 0, r.stderr
    r = cli("user", "add", "li", "--password", "secret-pass", "--role", "astronaut", ok=False)
    assert r.returncode == 2 and "astronaut" in r.stderr
    r = cli("user", "add", "li", "--password", "short", "--role", "worker", ok=False)
    assert r.returncode == 2 and "password" in r.stderr
    r = cli("deploy", str(tmp_path / "missing"), ok=False)
    assert r.returncode == 2 and "no such file" in r.stderr
    seeded = cli("seed").stdout
    assert "safety1" in seeded and "anjian-demo" in seeded
