"""The README's configuration table names every environment variable the server code reads."""
from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# env.get("X"), env["X"], environ.get("X"), os.getenv("X"), _env_number(env, "X", …), _env_time(env, "X")
READ = re.compile(r"""(?:\benv(?:iron)?(?:\.get)?\s*[\(\[]\s*|getenv\(\s*|_env_\w+\(\s*env,\s*)["']([A-Z][A-Z0-9_]+)["']""")
PREFIX_READS = {"ANJIAN_CONNECTOR_": "ANJIAN_CONNECTOR_<NAME>_<KEY>"}


def _read_by_code() -> set[str]:
    names = set()
    for folder in ("api", "engine", "worker", "connectors"):
        for path in (REPO / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            names.update(READ.findall(text))
            if 'CONFIG_ENV_PREFIX = "ANJIAN_CONNECTOR_"' in text:
                names.add(PREFIX_READS["ANJIAN_CONNECTOR_"])
            names.update(re.findall(r'CONFIG_ENV = "([A-Z_]+)"', text))
    return names


def _documented() -> set[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    table = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_<>]+)`", table, flags=re.M))


def test_every_variable_the_code_reads_is_in_the_readme_table():
    read = _read_by_code()
    assert {"DATABASE_URL", "MQTT_URL", "ANJIAN_MQTT_CLIENT_ID", "ANJIAN_MQTT_TOPIC", "ANJIAN_ALERT_RULES",
            "ANJIAN_OPERATION_TIMEOUT_SECONDS"} <= read  # the scan finds the reads at all
    missing = sorted(read - _documented())
    assert missing == [], f"read by the code but not in README.md's configuration table: {missing}"
