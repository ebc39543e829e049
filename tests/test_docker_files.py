"""docker/Dockerfile and docker/compose.yaml stay correct without Docker: parse them and check
every command against the real `anjian` CLI, every dependency and every health check."""
from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import click
import pytest
import yaml

from api.cli import main as cli

REPO = Path(__file__).resolve().parent.parent
DOCKER = REPO / "docker"
COMPOSE = yaml.safe_load((DOCKER / "compose.yaml").read_text())
SERVICES: dict = COMPOSE["services"]
# Services every production deployment needs (DESIGN.md, issue "Deployment and scale-out").
REQUIRED = {"api", "worker", "scheduler", "ingest", "postgres", "redis", "mosquitto", "migrate"}
ONE_SHOT = {name for name, svc in SERVICES.items() if svc.get("restart") == "no"}


def _anjian_services() -> dict:
    return {n: s for n, s in SERVICES.items() if "build" in s or str(s.get("image", "")).startswith("anjian")}


def _resolve(argv: list[str]) -> tuple[list[str], click.Command | None, list[str]]:
    """Walk click groups along argv: (command path, command or None, remaining args)."""
    path, cmd, rest = [], cli, list(argv)
    while isinstance(cmd, click.Group) and rest and not rest[0].startswith("-"):
        sub = cmd.commands.get(rest[0])
        if sub is None:
            return path + [rest[0]], None, rest[1:]
        path.append(rest.pop(0))
        cmd = sub
    return path, (None if isinstance(cmd, click.Group) else cmd), rest


def _check_invocation(argv: list[str]) -> list[str]:
    """Problems with running `anjian <argv>`: unknown command, unknown option, missing value."""
    path, cmd, rest = _resolve(argv)
    if cmd is None:
        return [f"`anjian {' '.join(path)}` is not a command of the anjian CLI"]
    problems = []
    options = {name: p for p in cmd.params if isinstance(p, click.Option) for name in p.opts + p.secondary_opts}
    i = 0
    while i < len(rest):
        arg = rest[i]
        if arg.startswith("--"):
            name, eq, _ = arg.partition("=")
            opt = options.get(name)
            if opt is None:
                problems.append(f"`anjian {' '.join(path)}` has no option {name}")
            elif not opt.is_flag and not eq:
                if i + 1 >= len(rest):
                    problems.append(f"`anjian {' '.join(path)} {name}` needs a value")
                else:
                    try:
                        opt.type.convert(rest[i + 1], opt, None)
                    except click.BadParameter as exc:
                        problems.append(f"`anjian {' '.join(path)} {name} {rest[i + 1]}`: {exc.message}")
                i += 1
        i += 1
    return problems


def test_required_services_are_there():
    assert REQUIRED <= set(SERVICES), f"missing services: {sorted(REQUIRED - set(SERVICES))}"


def test_every_anjian_service_runs_an_existing_cli_command():
    problems = []
    services = _anjian_services()
    assert {"api", "worker", "scheduler", "ingest", "migrate"} <= set(services)
    for name, svc in sorted(services.items()):
        command = svc.get("command")
        assert isinstance(command, list) and command, f"{name}: command must be an exec-form list"
        problems += [f"{name}: {p}" for p in _check_invocation([str(c) for c in command])]
    assert not problems, "\n".join(problems)


def test_the_roles_run_the_right_commands():
    cmd = {n: s["command"][0] for n, s in _anjian_services().items()}
    assert (cmd["api"], cmd["worker"], cmd["scheduler"], cmd["ingest"], cmd["migrate"]) == \
        ("serve", "worker", "scheduler", "ingest", "migrate")
    api = SERVICES["api"]["command"]
    # gunicorn must listen on every interface inside the container and run several processes.
    assert api[api.index("--host") + 1] == "0.0.0.0"
    assert int(api[api.index("--workers") + 1]) >= 2
    if "mes-simulator" in cli.commands:
        assert "mes-simulator" in SERVICES


def test_depends_on_targets_exist_and_conditions_make_sense():
    problems = []
    for name, svc in SERVICES.items():
        deps = svc.get("depends_on") or {}
        if isinstance(deps, list):
            deps = {d: {"condition": "service_started"} for d in deps}
        for target, spec in deps.items():
            if target not in SERVICES:
                problems.append(f"{name} depends on unknown service {target}")
                continue
            cond = spec.get("condition", "service_started")
            if cond == "service_healthy" and "healthcheck" not in SERVICES[target]:
                problems.append(f"{name} waits for {target} to be healthy but {target} has no healthcheck")
            if cond == "service_completed_successfully" and target not in ONE_SHOT:
                problems.append(f"{name} waits for {target} to exit but {target} restarts")
    assert not problems, "\n".join(problems)
    # Nothing that uses the schema starts before the migration finished.
    for name in ("api", "worker", "scheduler", "ingest"):
        assert SERVICES[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully", name
    assert SERVICES["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_every_long_running_service_has_a_health_check():
    missing = [n for n, s in SERVICES.items() if n not in ONE_SHOT and not (s.get("healthcheck") or {}).get("test")]
    assert not missing, f"no healthcheck: {missing}"
    tests = {n: " ".join(map(str, s["healthcheck"]["test"])) for n, s in SERVICES.items() if n not in ONE_SHOT}
    assert "pg_isready" in tests["postgres"]
    assert "redis-cli ping" in tests["redis"]
    assert re.search(r"/(readyz|healthz)", tests["api"])
    # The scheduler and ingest are checked through their own heartbeat, not through Redis or the broker.
    assert tests["scheduler"].startswith("CMD anjian heartbeat scheduler")
    assert tests["ingest"].startswith("CMD anjian heartbeat ingest")


def test_the_api_is_published_on_loopback_unless_the_operator_says_otherwise():
    (port,) = SERVICES["api"]["ports"]
    assert port.startswith("${ANJIAN_API_BIND:-127.0.0.1}:"), port


def test_dedicated_urgent_workers_serve_only_the_high_queue():
    assert SERVICES["urgent-worker"]["command"] == ["worker", "--queues", "high"]
    for n, s in SERVICES.items():
        if n not in ONE_SHOT:
            assert s["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL"), n


def test_the_api_health_check_paths_exist(tmp_path):
    from api.app import create_app
    from engine.config import Settings

    app = create_app(Settings.from_env({"ANJIAN_DATA_DIR": str(tmp_path), "ANJIAN_SECRET_KEY": "x" * 48}))
    rules = {r.rule for r in app.url_map.iter_rules()}
    for path in re.findall(r"http://127\.0\.0\.1:8000(/\w+)", json.dumps(SERVICES["api"]["healthcheck"]["test"])):
        assert path in rules, path
    assert {"/healthz", "/readyz"} <= rules


def test_anjian_services_get_the_service_urls():
    for name, svc in _anjian_services().items():
        env = svc["environment"]
        assert env["DATABASE_URL"].startswith("postgresql://") and "@postgres:" in env["DATABASE_URL"], name
        assert env["REDIS_URL"].startswith("redis://redis:"), name
        assert env["MQTT_URL"].startswith("mqtt://mosquitto:"), name
        assert "ANJIAN_SECRET_KEY" in env, name


def _dockerfile_instructions() -> list[tuple[str, str]]:
    text = (DOCKER / "Dockerfile").read_text().replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def _exec_form(value: str) -> list[str]:
    return json.loads(value) if value.startswith("[") else shlex.split(value)


def test_dockerfile_entrypoint_and_cmd_run_an_existing_command():
    ins = _dockerfile_instructions()
    entry = [_exec_form(v) for k, v in ins if k == "ENTRYPOINT"][-1]
    cmd = [_exec_form(v) for k, v in ins if k == "CMD"][-1]
    assert entry == ["anjian"]
    import tomllib

    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["anjian"] == "api.cli:main"  # the console script the ENTRYPOINT runs
    assert not _check_invocation(cmd), _check_invocation(cmd)


def test_dockerfile_copies_only_what_exists_and_the_build_context_is_the_repository():
    for svc in _anjian_services().values():
        assert (DOCKER / svc["build"]["context"]).resolve() == REPO
        assert (REPO / svc["build"]["dockerfile"]).resolve() == DOCKER / "Dockerfile"
    for kind, rest in _dockerfile_instructions():
        if kind == "COPY":
            *sources, _ = rest.split()
            for src in sources:
                assert (REPO / src).exists(), f"COPY {src}: not in the repository"
    # Every Python package the console script needs is copied.
    copied = {rest.split()[0] for kind, rest in _dockerfile_instructions() if kind == "COPY"}
    assert {"engine", "api", "worker", "connectors", "bpmn", "forms", "pyproject.toml"} <= copied


@pytest.mark.parametrize("path", ["mosquitto.conf"])
def test_mounted_config_files_exist(path):
    mounts = [v.split(":")[0] for v in SERVICES["mosquitto"]["volumes"] if v.startswith("./")]
    assert f"./{path}" in mounts and (DOCKER / path).is_file()
    assert "listener 1883" in (DOCKER / path).read_text()


def _mosquitto_options() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in (DOCKER / "mosquitto.conf").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition(" ")
            out.setdefault(key, []).append(value.strip())
    return out


def test_mosquitto_keeps_what_queues_for_a_stopped_ingest_and_lets_its_batches_fill():
    """Persistent ingest session: readings queued while ingest is down must not be dropped at 1000 (the
    default), and the broker must allow as many in flight as ingest announces (it acks after commit)."""
    import inspect

    from engine.iot.mqtt import MqttIngest

    opts = _mosquitto_options()
    queued = int(opts["max_queued_messages"][-1])
    assert queued == 0 or queued >= 100_000, "max_queued_messages: the default 1000 drops a stopped ingest's readings"
    inflight = int(opts["max_inflight_messages"][-1])
    receive_maximum = inspect.signature(MqttIngest).parameters["receive_maximum"].default
    assert inflight == 0 or inflight >= receive_maximum
    assert opts.get("persistence") == ["true"]


def test_real_mosquitto_accepts_the_config(tmp_path):
    """The file as shipped (port and data directory moved) starts a real mosquitto."""
    import shutil
    import socket
    import subprocess
    import time

    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(binary).exists():
        pytest.skip("no mosquitto binary")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tmp_path.chmod(0o777)
    text = (DOCKER / "mosquitto.conf").read_text().replace("listener 1883 0.0.0.0", f"listener {port} 127.0.0.1")
    text = text.replace("persistence_location /mosquitto/data/", f"persistence_location {tmp_path}/")
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(text)
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        assert proc.poll() is None, proc.stdout.read().decode(errors="replace")
    finally:
        proc.terminate()
        proc.wait(10)
