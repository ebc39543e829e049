"""The ``anjian`` command line."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from engine.config import Settings
from engine.errors import AnjianError

LIBRARY_SUFFIXES = (".bpmn", ".dmn", ".json")
# Sub-folders of a library folder that hold tooling, not definitions: bpmn/tools has the generator
# and its node layout tool (package.json, node_modules/ full of .json files that are no forms).
TOOLING_FOLDERS = frozenset({"tools", "node_modules"})


def _platform():
    from engine.platform import Platform

    return Platform(Settings.from_env())


def _collect(paths: tuple[str, ...]) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise click.UsageError(f"{raw}: no such file or folder")
        candidates = sorted(p for p in path.rglob("*") if p.is_file()
                            and not TOOLING_FOLDERS & set(p.relative_to(path).parts[:-1])) if path.is_dir() else [path]
        for p in candidates:
            if p.suffix.lower() not in LIBRARY_SUFFIXES:
                continue
            if p.name in files:
                raise click.UsageError(f"two files named {p.name}; file names must be unique in a deployment")
            files[p.name] = p.read_bytes()
    if not files:
        raise click.UsageError("no .bpmn, .dmn or .json files found")
    return files


def _fail(err: AnjianError) -> None:
    click.echo(f"error: {err.detail}", err=True)
    for e in err.errors or []:
        where = e.get("file") or e.get("field") or ""
        line = f":{e['line']}" if e.get("line") else ""
        elem = f" [{e['element_id']}]" if e.get("element_id") else ""
        click.echo(f"  {where}{line}{elem}: {e.get('message')}", err=True)
    sys.exit(2)


@click.group()
def main():
    """Anjian (安监): BPMN-native production-safety supervision."""
    from engine.logs import configure_logging

    configure_logging()


@main.command()
def migrate():
    """Create or upgrade the database schema (idempotent)."""
    p = _platform()
    p.migrate()
    click.echo(f"database at {p.settings.database_url.split('@')[-1]} is up to date")


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--as", "actor", default="cli", show_default=True, help="recorded as the deployer")
def deploy(paths, actor):
    """Deploy .bpmn/.dmn/.json files or folders of them."""
    p = _platform()
    try:
        result = p.deployments.deploy(_collect(paths), actor)
    except AnjianError as err:
        _fail(err)
    for proc in result["processes"]:
        state = "new version" if proc["created"] else "unchanged"
        click.echo(f"{proc['key']:32} v{proc['version']:<4} {state}")


@main.group()
def bpmn():
    """Work with BPMN files."""


@bpmn.command("validate")
@click.argument("paths", nargs=-1, required=True)
def bpmn_validate(paths):
    """Validate files exactly as a deployment would, without storing anything."""
    p = _platform()
    try:
        processes = p.deployments.validate(_collect(paths))
    except AnjianError as err:
        _fail(err)
    for proc in processes:
        click.echo(f"ok  {proc.key}  ({proc.name})")


def _cli_actor() -> str:
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "cli"


def _as_option(fn):
    """``--as``: who the audit chain records as having made an organisation change."""
    return click.option("--as", "actor", default=_cli_actor, show_default="cli:<login name>",
                        help="recorded in the audit chain as the actor")(fn)


def _org(call, *args, **kwargs):
    try:
        return call(*args, **kwargs)
    except AnjianError as err:
        _fail(err)


@main.group()
def department():
    """Manage departments (every change is in the audit chain)."""


@department.command("add")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--kind", default="production", show_default=True,
              help="production, supervision, maintenance, emergency, leadership or other")
@_as_option
def department_add(code, name, kind, actor):
    """Create a department."""
    _org(_platform().organisation.add_department, actor, code, name, kind)
    click.echo(f"department {code} created")


@department.command("set")
@click.argument("code")
@click.option("--name", default=None)
@click.option("--kind", default=None)
@_as_option
def department_set(code, name, kind, actor):
    """Change a department's name or kind."""
    changes = {k: v for k, v in {"name": name, "kind": kind}.items() if v is not None}
    _org(_platform().organisation.update_department, actor, code, **changes)
    click.echo(f"department {code} saved")


@department.command("list")
def department_list():
    """Every department."""
    for d in _platform().organisation.departments():
        click.echo(f"{d['code']:20} {d['kind']:12} {d['name']}")


@main.group()
def area():
    """Manage areas and their hazard classification (every change is in the audit chain)."""


@area.command("add")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--classification", required=True,
              help="fire_explosion, major_hazard_tank_farm, pipe_rack or general")
@click.option("--department", default=None)
@_as_option
def area_add(code, name, classification, department, actor):
    """Create an area."""
    _org(_platform().organisation.add_area, actor, code, name, department, classification)
    click.echo(f"area {code} created")


@area.command("set")
@click.argument("code")
@click.option("--name", default=None)
@click.option("--classification", default=None)
@click.option("--department", default=None, help="'-' for none")
@_as_option
def area_set(code, name, classification, department, actor):
    """Change an area's name, department or classification."""
    changes = {k: v for k, v in {"name": name, "classification": classification}.items() if v is not None}
    if department is not None:
        changes["department"] = None if department == "-" else department
    _org(_platform().organisation.update_area, actor, code, **changes)
    click.echo(f"area {code} saved")


@area.command("list")
def area_list():
    """Every area."""
    for a in _platform().organisation.areas():
        click.echo(f"{a['code']:20} {a['classification']:24} {a['department'] or '-':14} {a['name']}")


@main.group()
def user():
    """Manage users (every change is in the audit chain)."""


@user.command("add")
@click.argument("username")
@click.option("--password", required=True)
@click.option("--role", "roles", multiple=True, required=True)
@click.option("--department", default=None)
@click.option("--name", "display_name", default="")
@click.option("--replace", is_flag=True, help="update the user if it exists (a new password revokes its tokens)")
@_as_option
def user_add(username, password, roles, department, display_name, replace, actor):
    """Add a user with one or more roles."""
    org = _platform().organisation
    if replace:
        _org(org.put_user, actor, username, password, list(roles), department, display_name)
    else:
        _org(org.add_user, actor, username, password, list(roles), department, display_name)
    click.echo(f"user {username} ({', '.join(roles)}) saved")


@user.command("set")
@click.argument("username")
@click.option("--role", "roles", multiple=True, help="replaces the user's roles (repeat for several)")
@click.option("--department", default=None, help="'-' for none")
@click.option("--name", "display_name", default=None)
@click.option("--active/--inactive", default=None)
@_as_option
def user_set(username, roles, department, display_name, active, actor):
    """Change a user's roles, department, display name or whether active."""
    changes = {}
    if roles:
        changes["roles"] = list(roles)
    if department is not None:
        changes["department"] = None if department == "-" else department
    if display_name is not None:
        changes["display_name"] = display_name
    if active is not None:
        changes["active"] = active
    u = _org(_platform().organisation.update_user, actor, username, **changes)
    click.echo(f"user {username} saved: roles {','.join(u['roles'])}, department {u['department'] or '-'}, "
               f"{'active' if u['active'] else 'inactive'}")


@user.command("deactivate")
@click.argument("username")
@_as_option
def user_deactivate(username, actor):
    """Deactivate a user: their tokens stop working on every server within seconds."""
    _org(_platform().organisation.update_user, actor, username, active=False)
    click.echo(f"user {username} deactivated")


@user.command("reset-password")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@_as_option
def user_reset_password(username, password, actor):
    """Set a new password; tokens issued before stop working."""
    _org(_platform().organisation.reset_password, actor, username, password)
    click.echo(f"password of {username} reset")


@user.command("list")
@click.option("--department", default=None)
def user_list(department):
    """Users with roles and department."""
    for u in _platform().organisation.list_users(department=department):
        state = "" if u["active"] else "  (inactive)"
        click.echo(f"{u['username']:16} {','.join(u['roles']):24} {u['department'] or '-':14} "
                   f"{u['display_name']}{state}")


@main.group("org")
def org_group():
    """The organisation as a whole."""


@org_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--sheet", default=None, help="Excel sheet (default: the first)")
@click.option("--json", "as_json", is_flag=True, help="print the per-row report as JSON")
@click.option("--max-new-users", type=click.IntRange(min=0), default=None,
              help="allow this many new users (default: ANJIAN_ORG_IMPORT_MAX_NEW_USERS), e.g. for a first load")
@_as_option
def org_import(file, sheet, as_json, max_new_users, actor):
    """Import departments, areas and users from CSV or Excel (README "Organisation import")."""
    org = _platform().organisation
    path = Path(file)
    with path.open("rb") as fh:
        data = fh.read(org.max_import_bytes + 1)
    report = _org(org.import_file, actor, path.name, data, sheet=sheet, max_new_users=max_new_users)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        for r in report["rows"]:
            line = f"row {r['row']:<5} {r['record']:10} {r['code'] or '-':20} {r['result']}"
            for e in r.get("errors", []):
                line += f"  [{e['field']}: {e['message']}]"
            click.echo(line)
        click.echo(f"created {report['created']}, updated {report['updated']}, unchanged {report['unchanged']}, "
                   f"rejected {report['rejected']}")
    if report["rejected"]:
        sys.exit(1)


@main.command()
@click.option("--password", default="anjian-demo", show_default=True, help="password of every demo user")
def seed(password):
    """Load the sample plant: departments, areas and a user for every role."""
    from engine.sample_plant import seed_sample_plant

    p = _platform()
    users = seed_sample_plant(p, password)
    click.echo("sample plant loaded; demo users (password: %s):" % password)
    for u in users:
        click.echo(f"  {u['username']:12} {','.join(u['roles']):18} {u['department'] or '-':14} {u['name']}")


@main.group()
def audit():
    """The audit chain."""


@audit.command("verify")
@click.option("--checkpoint", "checkpoint_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="a file from `anjian audit checkpoint`: also detect events removed since")
def audit_verify(checkpoint_file):
    """Walk the chain and name the first broken link."""
    cp = None
    if checkpoint_file:
        try:
            cp = json.loads(Path(checkpoint_file).read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise click.UsageError(f"{checkpoint_file}: not JSON ({exc})")
    try:
        r = _platform().audit.verify(checkpoint=cp)
    except ValueError as exc:
        click.echo(f"audit checkpoint refused: {exc}", err=True)
        sys.exit(1)
    if r.ok:
        click.echo(f"audit chain intact: {r.checked} events")
        return
    click.echo(f"audit chain BROKEN at seq {r.broken_seq}: {r.reason} ({r.checked} events verified before it)",
               err=True)
    sys.exit(1)


@audit.command("checkpoint")
def audit_checkpoint():
    """Print the signed tips of every chain (JSON); keep it outside the database for `verify --checkpoint`."""
    click.echo(json.dumps(_platform().audit.checkpoint(), ensure_ascii=False))


@audit.command("reseal")
def audit_reseal():
    """Seal events written before the audit key existed with the current key (after checking them)."""
    r = _platform().audit.reseal()
    click.echo(f"resealed {r.events} events in {r.chains} chains")
    for refused in r.refused or ():
        click.echo(f"NOT resealed: chain {refused['chain']} at seq {refused['seq']}: {refused['reason']}", err=True)
    if r.refused:
        sys.exit(1)


@main.command()
@click.option("--interval", default=0.5, show_default=True, help="seconds between polls")
def scheduler(interval):
    """Fire due timers and relay the outbox (one active at a time; safe to run two)."""
    from worker.dispatch import Scheduler

    p = _platform()
    if p.settings.embedded:
        click.echo("embedded mode (no REDIS_URL): running jobs and timers in this process")
        p.dispatcher.poll = interval
        p.dispatcher._loop()
        return
    click.echo(f"scheduler {p.settings.redis_url}: polling every {interval}s (standby unless leader)")
    Scheduler(p, p.dispatcher, interval=interval).run_forever()


@main.command()
@click.argument("name", type=click.Choice(["scheduler", "ingest"]))
@click.option("--max-age", default=15.0, show_default=True,
              help="seconds since the last beat that still count as alive")
def heartbeat(name, max_age):
    """Exit 0 while the process NAME of this machine/container beats (its heartbeat file is fresh), else 1.

    The compose health checks run it: it tests the process itself, not only the Redis or broker it uses.
    """
    from engine.heartbeat import age

    seconds = age(Settings.data_dir_from_env(), name)  # nothing else: a health check must not create key files
    if seconds is None:
        click.echo(f"{name}: no heartbeat yet", err=True)
        sys.exit(1)
    if seconds > max_age:
        click.echo(f"{name}: last heartbeat {seconds:.0f} s ago (limit {max_age:g} s)", err=True)
        sys.exit(1)
    click.echo(f"{name}: alive ({seconds:.1f} s ago)")


@main.command("worker")
@click.option("--burst", is_flag=True, help="exit when the queues are empty")
@click.option("--name", default=None, help="worker name (default: host and pid)")
@click.option("--queues", default="high,normal,low", show_default=True,
              help="urgency classes to serve, taken in priority order: high (timers, thrown messages, alarm "
                   "starts), normal (connector calls), low (long operations, scheduled jobs); "
                   "`--queues high` runs a dedicated urgent worker")
def worker_cmd(burst, name, queues):
    """Run an RQ worker for service tasks, timers and thrown messages (REDIS_URL required).

    Jobs run in this process with one Platform built once: RQ's default forks a
    process per job and rebuilds everything (2 jobs/s instead of 14; bench/service_tasks.py).
    Urgent work first: a busy worker finishes its job, then takes timers and messages
    before the next connector call (worker/queues.py).
    """
    from worker.queues import parse_queues
    from worker.rq_worker import run_worker

    settings = Settings.from_env()
    if not settings.redis_url:
        raise click.UsageError("REDIS_URL is not set: embedded mode runs jobs inside `anjian serve`")
    try:
        parse_queues(queues)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--queues") from None
    run_worker(settings, burst=burst, name=name, queues=queues)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=None, type=int, help="gunicorn worker processes (default: 1 embedded, 2 otherwise)")
@click.option("--threads", default=8, show_default=True, type=int)
@click.option("--demo", is_flag=True, help="first print the demo users of the sample plant and where to start (make run)")
def serve(host, port, workers, threads, demo):
    """Serve the workspace and the API with gunicorn (embedded mode also fires timers in-process)."""
    from gunicorn.app.base import BaseApplication

    settings = Settings.from_env()
    workers = workers or (1 if settings.embedded else 2)

    class _App(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("worker_class", "gthread" if threads > 1 else "sync")
            self.cfg.set("accesslog", None)
            self.cfg.set("timeout", 60)

        def load(self):
            import gunicorn.util

            from api.app import create_app
            from api.problems import write_http_server_error

            # Requests gunicorn refuses itself (URI or headers too long) answer problem+json like the rest.
            gunicorn.util.write_error = write_http_server_error

            app = create_app(settings)
            if settings.embedded:
                app.extensions["anjian"].start_background()
            return app

    if demo:
        from engine.sample_plant import demo_banner

        click.echo(demo_banner(f"http://{host}:{port}/"))
    else:
        click.echo(f"Anjian workspace on http://{host}:{port}/  (API docs: http://{host}:{port}/api/docs)")
    _App().run()


@main.command("openapi")
def openapi_cmd():
    """Print the OpenAPI document."""
    from api.app import create_app

    app = create_app(Settings.from_env())
    with app.test_client() as c:
        click.echo(json.dumps(c.get("/api/v1/openapi.json").json, ensure_ascii=False, indent=2))


@main.group()
def connectors():
    """Connectors (MES, notifications, data hub and installed plugins)."""


@connectors.command("list")
@click.option("--json", "as_json", is_flag=True, help="print the same JSON as GET /api/v1/connectors")
def connectors_list(as_json):
    """Print each connector, its version, operations and parameters, and any that failed to load."""
    from connectors.registry import discover

    info = discover().describe()
    if as_json:
        click.echo(json.dumps(info, ensure_ascii=False, indent=2))
        return
    for c in info["connectors"]:
        click.echo(f"{c['name']} {c['version']}  [{c['kind']}]  {c['description']}")
        for op in c["operations"]:
            click.echo(f"  {c['name']}/{op['name']}  - {op['description']}")
            for prm in op["params"]:
                need = "required" if prm["required"] else "optional"
                default = f", default {prm['default']!r}" if "default" in prm else ""
                desc = f"  {prm['description']}" if prm["description"] else ""
                choices = f", one of {prm['choices']}" if "choices" in prm else ""
                click.echo(f"      {prm['name']}: {prm['type']} ({need}{default}{choices}){desc}")
    for f in info["failures"]:
        click.echo(f"FAILED {f['name']}: {f['error']}", err=True)
    if not info["connectors"]:
        click.echo("no connectors loaded", err=True)


@main.command("mes-simulator")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8900, show_default=True, type=int)
def mes_simulator(host, port):
    """Serve the MES simulator (sample plant work orders, equipment load, schedule)."""
    from connectors.mes_simulator import AREAS, MesSimulator

    try:
        sim = MesSimulator(host, port, quiet=False)
    except OSError as exc:
        raise click.UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    click.echo(f"MES simulator on {sim.url}  (areas: {', '.join(AREAS)}); "
               f"point the mes connector at it with ANJIAN_CONNECTOR_MES_BASE_URL={sim.url}")
    sim.serve_forever()


@main.group("hub")
def hub_group():
    """The data hub (production and supervision records)."""


@hub_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--kind", required=True, help="record kind, e.g. equipment, equipment_run, work_record, hazard")
@click.option("--sheet", default=None, help="Excel sheet (default: the first)")
@click.option("--batch-size", default=500, show_default=True, help="rows per transaction")
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
def hub_import(file, kind, sheet, batch_size, as_json):
    """Import a CSV/JSON/Excel file; idempotent by natural key; exit 1 when rows were rejected."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from engine.hub.importer import detect_format, upsert_file

    p = _platform()
    path = Path(file)
    try:
        fmt = detect_format(path.name)
        with Progress(TextColumn(f"{kind} ← {path.name}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      disable=as_json, transient=False) as bar:
            task = bar.add_task("import", total=None)
            report = upsert_file(p.hub, kind, path.name, path.read_bytes(), sheet=sheet, batch_size=batch_size,
                                 on_total=lambda n: bar.update(task, total=n),
                                 progress=lambda n: bar.advance(task, n))
    except AnjianError as err:
        _fail(err)
    r = report.as_dict()
    if as_json:
        click.echo(json.dumps(r, ensure_ascii=False, indent=2))
    else:
        unit = {"csv": "line", "jsonl": "line", "xlsx": "row", "json": "record"}[fmt]
        click.echo(f"{kind}: received {r['received']}, inserted {r['inserted']}, updated {r['updated']}, "
                   f"unchanged {r['unchanged']}, rejected {r['rejected_count']} ({r['batches']} batches)")
        o = r["outcomes"]
        click.echo(f"  created {o['created']}, updated {o['updated']}, unchanged {o['unchanged']}, "
                   f"rejected {o['rejected']}")
        for rej in r["rejected"][:50]:
            why = "; ".join(f"{e['field']}: {e['message']}" + (f" [{e['rule']}]" if e.get("rule") else "")
                            for e in rej["errors"])
            click.echo(f"  {unit} {rej['row']}: {why}")
        if r["rejected_count"] > 50:
            click.echo(f"  … and {r['rejected_count'] - 50} more (use --json for all)")
    sys.exit(1 if r["rejected_count"] else 0)


@hub_group.command("sync-processes")
def hub_sync_processes():
    """Feed hazards, escalations, inspections, violations and stops produced by the processes into the hub."""
    from engine.hub.feed import sync_from_processes

    for kind, r in sync_from_processes(_platform()).items():
        click.echo(f"{kind:16} received {r['received']:6}  inserted {r['inserted']:6}  updated {r['updated']:6}")


@hub_group.command("demo")
@click.option("--remove", is_flag=True, help="remove the demo data (rows marked demo:, the demo's analysis runs)")
@click.option("--if-new", is_flag=True, help="load only when no demo data is loaded and it was not removed on "
                                              "purpose (what `make run` does)")
@click.option("--no-analyses", is_flag=True, help="load the data without running the analyses")
def hub_demo(remove, if_new, no_analyses):
    """Load a marked demo year of the sample plant into the hub and run the analyses of the last full month."""
    from engine.hub import demo

    p = _platform()
    if remove:
        out = demo.remove_demo(p)
        click.echo("demo data removed: " + ", ".join(f"{k} {n}" for k, n in out.items() if n) or "nothing to remove")
        return
    if if_new and (demo.removed_on_purpose(p) or demo.loaded(p)):
        click.echo("demo data: " + ("removed on purpose, not loaded again (`anjian hub demo` loads it)"
                                    if demo.removed_on_purpose(p) else "already loaded"))
        return
    out = demo.load_demo(p, analyse=not no_analyses)
    rows = sum(o["created"] + o["updated"] + o["unchanged"] for o in out["rows"].values())
    rejected = sum(o["rejected"] for o in out["rows"].values())
    click.echo(f"demo year loaded: {rows} rows ({rejected} rejected) in {out['load_seconds']} s; analyses of "
               f"{out['period']}: {len(out['analyses'])} in {out['seconds']} s in all. "
               f"Remove it with `anjian hub demo --remove`.")


@hub_group.command("sync-mes")
@click.option("--days", default=None, type=int, help="also re-read work orders of this many past days "
                                                      "(default: ANJIAN_MES_SYNC_DAYS)")
def hub_sync_mes(days):
    """Read equipment and work orders from the MES now (what the scheduled MES sync job does)."""
    from connectors.base import ConnectorError
    from engine.hub.mes_sync import explain_failure, sync_mes

    p = _platform()
    s = p.settings
    try:
        out = sync_mes(p, interval_seconds=s.mes_sync_seconds, days=s.mes_sync_days if days is None else days,
                       areas=s.mes_sync_areas)
    except ConnectorError as err:
        click.echo(explain_failure(p, err), err=True)
        sys.exit(1)
    click.echo(f"areas: {', '.join(out['areas'])}")
    for kind in ("equipment", "equipment_run", "work_record"):
        r = out[kind]
        click.echo(f"{kind:16} received {r['received']:6}  inserted {r['inserted']:6}  updated {r['updated']:6}  "
                   f"rejected {r['rejected_count']}")


@main.group("analytics")
def analytics_group():
    """Fusion analytics."""


@analytics_group.command("run")
@click.option("--period", required=True, help="month, e.g. 2026-11")
@click.option("--analysis", "analyses", multiple=True,
              help="equipment_load, violation_hotspots, supervision, permits, area_hotspots, plant_load, "
                   "contractor_hotspots (default: all)")
@click.option("--no-push", is_flag=True, help="store results without pushing findings")
@click.option("--json", "as_json", is_flag=True, help="print the stored runs as JSON")
def analytics_run(period, analyses, no_push, as_json):
    """Run the analyses for a month: sync process data, compute, store, push findings."""
    p = _platform()
    try:
        runs = p.analytics.run(period, list(analyses) or None, actor="cli", push=not no_push)
    except AnjianError as err:
        _fail(err)
    if as_json:
        click.echo(json.dumps(runs, ensure_ascii=False, indent=2, default=str))
        return
    for r in runs:
        pushed = r.get("pushed") or {}
        click.echo(f"{r['analysis']:20} run #{r['id']:<5} {r['duration_ms']:6} ms  result {r['result_digest'][:12]}  "
                   f"focus items {pushed.get('focus_items', 0)}, recommendations {pushed.get('recommendations', 0)}")



@main.command()
@click.option("--client-id", default=None, help="stable MQTT client id (default: ANJIAN_MQTT_CLIENT_ID or anjian-ingest)")
@click.option("--topic", default=None,
              help="topic filter(s), comma-separated (default: ANJIAN_MQTT_TOPIC or anjian/+/+/+/+); run one ingest "
                   "per group of areas, each with its own --client-id, to use more cores")
@click.option("--queue-size", default=20_000, show_default=True, help="bounded hand-off queue between network and worker")
@click.option("--batch-size", default=2_000, show_default=True, help="readings per database transaction at most")
@click.option("--ack-on-receipt", is_flag=True,
              help="acknowledge QoS 1 messages when queued instead of after commit (faster; a crash loses the queue)")
def ingest(client_id, topic, queue_size, batch_size, ack_on_receipt):
    """Ingest MQTT telemetry (anjian/{site}/{area}/{device}/{metric}) into readings and alerts."""
    import logging
    import signal
    import threading

    from engine.iot.mqtt import MqttIngest

    p = _platform()
    if not p.settings.mqtt_url:
        raise click.UsageError("MQTT_URL is not set (e.g. MQTT_URL=mqtt://127.0.0.1:1883)")
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("anjian").setLevel(logging.INFO)
    if not p.settings.embedded:
        from engine.iot.alerts import defer_to_outbox

        # alert_response starts become urgent jobs: this process delivers gas_alarm and reads on
        p.iot.alerts.defer = defer_to_outbox(p)
    service = MqttIngest(p.iot.pipeline, p.settings.mqtt_url, client_id=client_id or p.settings.mqtt_client_id,
                         topic=topic or p.settings.mqtt_topic, queue_size=queue_size, batch_size=batch_size,
                         ack_after_commit=not ack_on_receipt)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    click.echo(f"ingesting {service.topic} from {p.settings.mqtt_url} as {service.client_id} "
               f"(rules: {p.iot.rules.source})", err=True)
    service.run_forever(stop, heartbeat_dir=p.settings.data_dir)
    click.echo(f"ingest stopped: {p.iot.stats.snapshot()}", err=True)


@main.group()
def devices():
    """The device registry (gas detectors, transmitters, video analytics)."""


@devices.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def devices_import(file):
    """Create or update devices from a CSV (header: id,type,area,...) or JSON file; nothing is stored if a row is bad."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from engine.iot.devices import read_device_file

    p = _platform()
    path = Path(file)
    try:
        rows = read_device_file(path.name, path.read_bytes())
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      transient=False) as bar:
            task = bar.add_task(f"importing {path.name}", total=len(rows))
            result = p.iot.devices.import_rows(None, rows, progress=lambda done, total: bar.update(task, completed=done),
                                               chunk=200)
    except AnjianError as err:
        for e in err.errors or []:
            field = e.get("field", "")
            if field.startswith("["):  # [i].field -> row i+2 of a CSV with a header
                idx, _, rest = field[1:].partition("].")
                if idx.isdigit():
                    e["field"] = f"row {int(idx) + 2 if path.suffix.lower() == '.csv' else int(idx) + 1}: {rest}"
        _fail(err)
    click.echo(f"{result['total']} devices: {result['created']} created, {result['updated']} updated")


@devices.command("list")
@click.option("--area", default=None)
def devices_list(area):
    """Print the registered devices."""
    p = _platform()
    page = p.iot.devices.list(area=area, page_size=500)
    for d in page["items"]:
        points = " ".join(f"{k}={v:g}" for k, v in d["setpoints"].items())
        click.echo(f"{d['id']:24} {d['type']:16} {d['area']:14} {d['unit']:6} {points}")
    click.echo(f"{page['total']} devices")


@main.command()
@click.option("--area", required=True, help="area code, e.g. tank-farm-3")
@click.option("--site", default="plant", show_default=True, help="site segment of the topic")
@click.option("--interval", default=1.0, show_default=True, help="seconds between readings of a device")
@click.option("--excursion-after", default=20.0, show_default=True, help="seconds until the gas excursion (-1: none)")
@click.option("--duration", default=0.0, show_default=True, help="stop after this many seconds (0: run until Ctrl-C)")
@click.option("--direct", is_flag=True, help="write through the ingest pipeline in this process instead of MQTT")
@click.option("--speed", default=1.0, show_default=True, help="simulated seconds per real second (fast-forward)")
def simulate(area, site, interval, excursion_after, duration, direct, speed):
    """Publish realistic readings for an area's instruments, with a gas excursion (demo)."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from engine.iot.mqtt import broker_address
    from engine.iot.pipeline import Envelope
    from engine.iot.simulator import Simulator, demo_devices, payload, sim_device, topic
    from engine.models import utcnow

    p = _platform()
    existing = {d["id"] for d in p.iot.devices.list(area=area, page_size=500)["items"]}
    missing = [d for d in demo_devices(area) if d["id"] not in existing]
    try:
        if missing:
            p.iot.devices.import_rows(None, missing)
    except AnjianError as err:
        _fail(err)
    rows = p.iot.devices.list(area=area, page_size=500)["items"]
    sims = [sim_device(r) for r in rows if r["type"] != "video"]
    gas = next((s.id for s in sims if s.type == "combustible_lel"), None)
    sim = Simulator(sims, excursion_device=gas, excursion_after=None if excursion_after < 0 else excursion_after)
    client = None
    if not direct:
        if not p.settings.mqtt_url:
            raise click.UsageError("MQTT_URL is not set; use --direct to feed the pipeline in this process")
        addr = broker_address(p.settings.mqtt_url)
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"anjian-sim-{area}", protocol=mqtt.MQTTv5)
        if addr["username"]:
            client.username_pw_set(addr["username"], addr["password"])
        client.connect(addr["host"], addr["port"])
        client.loop_start()
    target = "this process" if direct else p.settings.mqtt_url
    click.echo(f"simulating {len(sims)} devices in {area} -> {target}"
               + (f"; excursion on {gas} after {excursion_after:g}s" if gas and excursion_after >= 0 else ""))
    started = time.time()
    try:
        while not duration or time.time() - started < duration:
            now = started + (time.time() - started) * speed
            batch = sim.tick(now)
            if direct:
                p.iot.pipeline.handle_envelopes([Envelope(topic(site, d), payload(v), utcnow())
                                                 for d, v in batch])
            else:
                for d, v in batch:
                    client.publish(topic(site, d), payload(v), qos=1)
            line = "  ".join(f"{d.id[len(area) + 1:] if d.id.startswith(area + '-') else d.id}={v:g}" for d, v in batch)
            click.echo(f"{time.strftime('%H:%M:%S')}  {line}")
            time.sleep(max(0.0, interval / speed - (time.time() - started - (now - started) / speed)))
    except KeyboardInterrupt:
        pass
    finally:
        if client is not None:
            client.loop_stop()
            client.disconnect()
    active = p.iot.alerts.list(None, area=area, status="active", page_size=20)["items"]
    for a in active:
        click.echo(f"alert #{a['id']} {a['grade']:6} {a['title']}")

if __name__ == "__main__":
    main()
