"""Production data from the plant MES into the hub: the scheduled MES sync job.

The worker runs :func:`sync_mes` every ``ANJIAN_MES_SYNC_SECONDS`` (worker/schedule.py).
It calls the ``mes`` connector (configured like any connector:
``ANJIAN_CONNECTOR_MES_BASE_URL`` …) and upserts by natural key, so a re-run,
a retry after a crash or two overlapping syncs store every record once:

=====================================  ==========================================================
MES                                    hub record (natural key)
=====================================  ==========================================================
``GET /api/areas``                     the areas to read (``ANJIAN_MES_SYNC_AREAS`` narrows them)
``GET /api/equipment?area=``           ``equipment`` (``code``): name, type, rated load, status,
                                       department of the area
same answer, sampled at the sync slot  ``equipment_run`` (``equipment_code``, slot start): the
                                       load % seen, running hours = the sync interval when
                                       running (0 otherwise), ``maintenance`` when the MES says so
``GET /api/work-orders?area=&date=``   ``work_record`` (``ref`` = work-order id, source ``mes``)
for today and ``days`` days before     with planned start/end, workers, equipment, status
=====================================  ==========================================================

Incremental: every run re-reads a short window (orders change status while
they are open) and writes only what changed (the import path compares each
field). The MES load is a snapshot, so equipment running records are samples
one sync interval long; a plant whose MES exports running logs imports them
instead (``anjian hub import --kind equipment_run``).
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from engine.models import utcnow

log = logging.getLogger(__name__)


def sync_mes(platform, *, slot: datetime | None = None, interval_seconds: float = 0.0, days: int = 1,
             areas: tuple[str, ...] | list[str] = ()) -> dict:
    """Read the MES and upsert equipment, sampled running records and work orders; returns the import reports.

    ``slot`` is the start of the sync interval this run stands for (the
    running record's key); ``interval_seconds`` its length. Raises the
    connector's error when the MES cannot be read (nothing half-written: each
    kind is written only after all of its rows were read).
    """
    call = platform.connectors.call
    slot = slot or utcnow().replace(microsecond=0)
    known = {a["code"]: a for a in call("mes/areas", {})["areas"]}
    wanted = list(areas) or sorted(known)
    departments = {code: (known.get(code) or {}).get("department") for code in wanted}
    equipment, runs, orders = [], [], []
    today = slot.date()
    for area in wanted:
        for e in call("mes/area_equipment", {"area": area})["equipment"]:
            rated = e.get("rated_load") or {}
            status = e.get("status")
            equipment.append({"code": e["id"], "name": e.get("name") or "", "area": area, "type": e.get("type") or "",
                              "rated_load": rated.get("value"), "rated_unit": rated.get("unit"),
                              "department": departments[area], "status": status})
            if interval_seconds > 0:
                runs.append({"equipment_code": e["id"], "started_at": slot,
                             "hours": round(interval_seconds / 3600, 6) if status == "running" else 0.0,
                             # as the MES says it: the hub rejects a load outside 0–120 % naming the value,
                             # where a clamp would have stored an overload or a sign error as a plausible number
                             "load_pct": e.get("current_load_pct"),
                             "faults": 0, "maintenance": status == "maintenance"})
        for back in range(days, -1, -1):
            day = (today - timedelta(days=back)).isoformat()
            for wo in call("mes/work_orders", {"area": area, "date": day})["work_orders"]:
                orders.append({"ref": wo["id"], "source": "mes", "kind": wo.get("type") or "work_order",
                               "area": wo.get("area") or area, "department": departments[area],
                               "equipment_code": wo.get("equipment_id"), "started_at": wo.get("planned_start"),
                               "ended_at": wo.get("planned_end"), "workers": wo.get("workers") or 1,
                               "status": wo.get("status"), "planned_output": wo.get("planned_quantity"),
                               "actual_output": wo.get("actual_quantity")})
    hub = platform.hub
    reports = {"areas": wanted}
    for kind, rows in (("equipment", equipment), ("equipment_run", runs), ("work_record", orders)):
        rep = hub.upsert(kind, rows, source="mes").as_dict()
        rep["rejected"] = rep["rejected"][:20]  # the count says how many; the audit record stays small
        reports[kind] = rep
    log.info("MES sync %s: %s", slot.isoformat(), {k: (v["inserted"], v["updated"], v["unchanged"])
                                                   for k, v in reports.items() if isinstance(v, dict)})
    return reports


def explain_failure(platform, error: Exception, *, interval_seconds: float | None = None) -> str:
    """The MES sync's failure in words an operator acts on: the MES URL tried, why the demo has no MES,
    how to start the simulator or turn the sync off.

    ``make run`` schedules the sync (``ANJIAN_MES_SYNC_SECONDS=900``) but starts no MES, so a new user's
    first log lines would otherwise hold a bare "connection refused" that only a Makefile comment explains.
    """
    from connectors.mes import DEFAULT_BASE_URL

    connector = platform.connectors.get("mes")
    base_url = ((getattr(connector, "config", None) or {}).get("base_url") or DEFAULT_BASE_URL).rstrip("/")
    what = getattr(error, "message", None) or str(error)
    # interval_seconds given: the scheduled job (it tries again); None: a one-off run (anjian hub sync-mes).
    again = "" if interval_seconds is None else (
        f" The scheduled sync tries again every {interval_seconds:g} s." if interval_seconds else
        " The scheduled sync tries again at the next slot.")
    if connector is None:
        why = "No 'mes' connector is loaded (anjian connectors list says why)"
    elif getattr(error, "status", None) is None:
        why = (f"Nothing answered at the MES URL {base_url} (ANJIAN_CONNECTOR_MES_BASE_URL). The demo plant has "
               f"no MES unless the simulator runs: start it in a second terminal with `.venv/bin/anjian "
               f"mes-simulator` (it listens on {DEFAULT_BASE_URL}), point ANJIAN_CONNECTOR_MES_BASE_URL at your "
               f"MES, or turn the sync off with ANJIAN_MES_SYNC_SECONDS=0 (e.g. `ANJIAN_MES_SYNC_SECONDS=0 make run`)")
    else:
        why = (f"The MES at {base_url} (ANJIAN_CONNECTOR_MES_BASE_URL) answered with an error; check it, or turn "
               f"the sync off with ANJIAN_MES_SYNC_SECONDS=0")
    return f"MES sync failed: {what}. {why}. Nothing was written.{again}"
