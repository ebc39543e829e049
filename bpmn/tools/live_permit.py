"""What the temporary-power, excavation and road-closure permits share (bpmn/tools/permit_*.py).

Not a permit module itself (build_library.py loads only ``permit_*.py``): the permits import it.

The three permits are not graded by GB 30871-2022 and have no re-test rhythm of their own, so their
live part is one small state machine instead of hot work's many paths: every way back into the
work (issue, a passing analysis, a site check, a restart, an alarm that does not concern the
permit) goes through one dispatch script and gateway that sends the permit to the first check
still missing — validity (4.16), a fresh gas sample where the permit needs one, the shift
leader's site check — and only then to the work. A suspension clears the site check (and the
sample), so the permit resumes through the same checks it started with.
"""
from __future__ import annotations

from xml.sax.saxutils import escape

from build_library import BY_EQUIPMENT, SIMOPS_CLEAR, review_form, text

# The SIMOPS table's outputs are deleted before it runs again (after a send-back): see SIMOPS_CLEAR.
CLEAR_SIMOPS = SIMOPS_CLEAR + "painting_planned = False\n"


def unit_review_form(title: str, extra: dict | None = None, required: list | None = None) -> str:
    """The unit's review with the SIMOPS coordinator and the read-only refusal (as confined space)."""
    from build_library import SIMOPS_REFUSAL_FIELD
    return review_form(title, {
        "coordinator": text("交叉作业协调人", min_length=0, description="GB 30871-2022 4.7：交叉作业应指定专人统一协调"),
        "simops_refusal": SIMOPS_REFUSAL_FIELD, **(extra or {})}, required)


def init_script(permit_type: str, extra: str = "") -> str:
    return (f"permit_type = '{permit_type}'\npermit_status = 'applying'\npermit_expires_at = ''\n"
            "simops_conflicts = []\nactive_permits_in_area = []\nsimops_refusal = ''\n"
            "work_started_at = ''\nsuspended_by = ''\nsite_checked = False\nalarms_noted = []\n"
            "work_plan_ref = ''\nwork_plan_linked = False\n" + extra)


# Validity counts from the issue (GB 30871 4.16, issue 14 §3), not from the start of the work.
def issue_script(validity_hours_expr: str = "validity_hours") -> str:
    return ("permit_status = 'issued'\nissued_at = now().isoformat()\n"
            f"permit_expires_at = (now() + hours({validity_hours_expr})).isoformat()")


def dispatch_script(gas: bool) -> str:
    """Where the permit goes next: the flags the dispatch gateway reads."""
    out = "permit_valid = not permit_expires_at or now() < parse_datetime(permit_expires_at)\n"
    if gas:
        # A sample counts for sample_max_age_minutes after it was taken (the 30-min window of 5.3).
        out += ("sample_fresh = (not gas_required) or (bool(sampled_ok_at) and\n"
                "    (now() - parse_datetime(sampled_ok_at)).total_seconds() / 60 <= sample_max_age_minutes)\n")
    else:
        out += "sample_fresh = True\n"
    return out


def suspend_script(by: str, gas: bool) -> str:
    out = (f"permit_status = 'suspended'\nsuspended_at = now().isoformat()\nsuspended_by = '{by}'\n"
           "site_checked = False\n")
    if gas:
        out += "sampled_ok_at = ''\n"
    return out


WORK_START = ("if not work_started_at:\n    work_started_at = now().isoformat()\n"
              "permit_status = 'active'\nsuspended_by = ''")


def live_part(b, p: str, *, work_lane: str, leader_lane: str, close_lane: str,
              checks: list[str], work: str, acceptance: str, gas_task: str | None = None,
              gas_alarm: bool = False) -> None:
    """The dispatch, suspension and expiry of a permit whose review ends in ``{p}issue``.

    ``checks``: the live tasks before the work (gas analysis, site check) — each, and the work task
    ``work``, catches ``stop_work`` (correlated by area, or area and equipment, as hot work does)
    and, with ``gas_alarm``, the gas alarm of the area. The caller defines the tasks, the site-check
    path back into ``{p}dispatch``, the work gateway and the acceptance (``acceptance``) with the close.
    ``gas_task``: the gas analysis task the dispatch sends a permit to when its sample is missing or
    stale (only where ``gas_required``).
    """
    gas = gas_task is not None
    b.script(f"{p}dispatch", "作业前检查（有效期、样品时效、现场确认）" if gas else "作业前检查（有效期、现场确认）",
             dispatch_script(gas), lane=leader_lane)
    b.xor(f"{p}dispatch_gw", "下一步", default=f"Flow_{p}to_work")
    b.script(f"{p}work_start", "开始/恢复作业", WORK_START, lane=work_lane)
    b.script(f"{p}expire", "作业票到期", "permit_status = 'expired'", lane=leader_lane)
    b.script(f"{p}suspend_stop", "停工指令：暂停作业", suspend_script("stop_work", gas), lane=leader_lane)
    b.message_catch(f"{p}wait_restart", "等待复工指令", "restart", lane=leader_lane, props=BY_EQUIPMENT)
    b.timer_boundary(f"{p}expired", "作业票到期", work, "date", "permit_expires_at")
    for task in checks + [work]:
        suffix = task.split("_", 1)[1]
        b.message_boundary(f"{p}stop_{suffix}", "停工指令", task, "stop_work", props=BY_EQUIPMENT)
        b.chain(f"{p}stop_{suffix}", f"{p}suspend_stop")
    b.chain(f"{p}suspend_stop", f"{p}wait_restart", f"{p}dispatch", f"{p}dispatch_gw")
    b.flow(f"{p}dispatch_gw", f"{p}expire", condition="not permit_valid", flow_id=f"Flow_{p}expired_before",
           name="作业票已过期")
    if gas:
        b.flow(f"{p}dispatch_gw", gas_task, condition="permit_valid and not sample_fresh",
               flow_id=f"Flow_{p}to_gas", name="须气体分析（无样品或超过时效）")
    site = checks[-1]
    b.flow(f"{p}dispatch_gw", site, condition="permit_valid and sample_fresh and not site_checked",
           flow_id=f"Flow_{p}to_site", name="现场确认")
    b.flow(f"{p}dispatch_gw", f"{p}work_start", flow_id=f"Flow_{p}to_work", name="开始/恢复作业")
    b.chain(f"{p}work_start", work)
    b.chain(f"{p}expired", f"{p}expire", acceptance)
    if gas_alarm:
        b.script(f"{p}suspend_alarm", "气体报警：暂停作业", suspend_script("gas_alarm", gas), lane=leader_lane)
        b.xor(f"{p}alarm_gw", "报警涉及本作业?", default=f"Flow_{p}alarm_elsewhere")
        b.script(f"{p}alarm_noted", "登记报警（非火灾爆炸危险场所）",
                 "alarms_noted = alarms_noted + [now().isoformat()]", lane=leader_lane)
        for task in checks + [work]:
            suffix = task.split("_", 1)[1]
            b.message_boundary(f"{p}alarm_{suffix}", "气体报警", task, "gas_alarm")
            b.chain(f"{p}alarm_{suffix}", f"{p}alarm_gw")
        b.flow(f"{p}alarm_gw", f"{p}suspend_alarm", condition="gas_required", flow_id=f"Flow_{p}alarm_here",
               name="火灾爆炸危险场所：暂停")
        b.flow(f"{p}alarm_gw", f"{p}alarm_noted", flow_id=f"Flow_{p}alarm_elsewhere", name="不涉及：继续")
        b.chain(f"{p}suspend_alarm", f"{p}dispatch")
        b.chain(f"{p}alarm_noted", f"{p}dispatch")


def close_script() -> str:
    # An expired or cancelled permit is still accepted (the site made safe) but keeps its status.
    return ("if permit_status not in ('expired', 'cancelled'):\n    permit_status = 'closed'\n"
            "closed_at = now().isoformat()")


def with_documentation(xml: str, process_id: str, doc: str) -> str:
    """Put ``doc`` (the clauses the diagram follows) as the process's bpmn:documentation."""
    tag = f'<bpmn:process id="{process_id}"'
    start = xml.index(tag)
    end = xml.index(">", start) + 1
    return xml[:end] + f"\n<bpmn:documentation>{escape(doc)}</bpmn:documentation>" + xml[end:]


def post_script(b, node_id: str, script: str) -> None:
    """Add a ``spiffworkflow:postScript`` to a user task built with props (runs on completion)."""
    node = b.nodes[node_id]
    node.body = node.body.replace("</bpmn:extensionElements>",
                                  f"<spiffworkflow:postScript>{escape(script)}</spiffworkflow:postScript>"
                                  "</bpmn:extensionElements>", 1)
