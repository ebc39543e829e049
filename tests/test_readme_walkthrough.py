"""The README's curl walkthrough, pasted as it stands, works against a fresh server.

The block is taken from README.md itself; only the server address differs (the test's server listens
on a free port instead of 8000), so a README edit that breaks the walkthrough fails here.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.live_server import live_server

ROOT = Path(__file__).resolve().parent.parent


def _walkthrough_block() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### curl: apply for a hot-work permit, see the next task", 1)[1]
    return section.split("```sh\n", 1)[1].split("```", 1)[0]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with live_server(tmp_path_factory.mktemp("readme-walkthrough")) as srv:
        yield srv


def test_the_readme_walkthrough_runs_verbatim_and_hands_the_permit_to_prod1(server):
    script = _walkthrough_block()
    assert "API=http://127.0.0.1:8000/api/v1" in script
    script = script.replace("http://127.0.0.1:8000", server.url)
    done = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "next: ['作业单位审核']" in done.stdout, done.stdout
    # The last command lists prod1's task of the instance the script started.
    last = done.stdout.strip().splitlines()[-1]
    assert re.search(r'"name":"作业单位审核"', last) and '"total":1' in last, last
