"""What the temporary-power, excavation and road-closure permits share (bpmn/tools/permit_*.py).

Not a permit module itself (build_library.py loads only ``permit_*.py``): the permits import it.

The three permits are not graded by GB 30871-2022 and have no re-test rhythm of their own, so their
live part is one small state machine instead of hot work's many paths: every way back into the
work (issue, a passing analysis, a site check, a restart, an alarm that does not concern the
permit) goes through one dispatch script and gateway that sends the permit to the first check
still missing — validity (4.16), a fresh gas sample where the permit needs one, the shift
leader's site check — and only then to the work. A suspension clears the site check (and the
sample), so the permit resumes through the same checks it started with.

Each permit is drawn as a main plane of collapsed phases (application and approval, pre-work
checks, work, acceptance) built by the ``*_sub`` functions and ``main_path`` below, so that every
plane fits a laptop (bpmn/README.md).
"""
from __future__ import annotations

from xml.sax.saxutils import escape

from build_library import (APPLICANT_OVERRIDES, BY_EQUIPMENT, LEADER, PERMIT_VALID, PRODUCTION, SIMOPS_CLEAR,
                           WORKER, link_to_work_plan, review_form, simops_lookup, text)
from engine.bpmn_builder import ProcessBuilder
from special_ops import PAUSE_RECORD

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
            "work_started_at = ''\nsuspended_by = ''\npauses = []\nsite_checked = False\nalarms_noted = []\n"
            "work_plan_ref = ''\nwork_plan_linked = False\n" + extra)


# Validity counts from the issue (GB 30871 4.16, issue 14 §3), not from the start of the work.
def issue_script(validity_hours_expr: str = "validity_hours") -> str:
    return ("permit_status = 'issued'\nissued_at = now().isoformat()\n"
            f"permit_expires_at = (now() + hours({validity_hours_expr})).isoformat()")


def dispatch_script(gas: bool) -> str:
    """Where the permit goes next: the flags the dispatch gateway reads."""
    out = PERMIT_VALID + "\n"
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


def _sub(pid: str, name: str, *lanes: str) -> ProcessBuilder:
    b = ProcessBuilder(pid, name)
    for lane in lanes:
        b.lane(lane)
    return b


def _only_used_lanes(b: ProcessBuilder) -> ProcessBuilder:
    """Keep only the lanes a plane's own nodes stand in (gateways and events take a neighbour's)."""
    used = {n.lane for n in b.nodes.values() if n.lane}
    b.lanes = {lid: name for lid, name in b.lanes.items() if name in used}
    return b


# ---------------------------------------------------------------- the phases, one plane each
#
# The three permits are drawn as hot work is (bpmn/README.md, "Split where a diagram cannot fit a
# laptop"): a short main path whose phases are collapsed embedded sub-processes. Each phase ends where
# the flow used to leave it and a gateway outside routes on data the phase already wrote (``decision``,
# ``permit_valid`` of the dispatch, ``permit_status``), and every task keeps its boundary events and
# their paths in its own plane. Where a step is needed in two planes it is there twice, the copy in
# the pre-work plane with the suffix ``_waiting`` (as hot work's ``suspend_stop_waiting``).


def plan_check_sub(p: str, process_key: str) -> ProcessBuilder:
    """The work-plan reference checked and linked (link_to_work_plan); an unknown number ends here
    with ``work_plan_ref_error`` and goes back to the applicant."""
    b = _sub(f"{p}plan_check", "核对并关联作业计划", WORKER)
    b.start(f"{p}plan_check_start", "已申请")
    b.end(f"{p}plan_checked", "计划已核对", lane=WORKER)
    b.end(f"{p}plan_ref_bad", "计划编号不存在", lane=WORKER)
    link_to_work_plan(b, f"{p}plan_check_start", f"{p}plan_checked", process_key, WORKER, back=f"{p}plan_ref_bad")
    return b


def rules_sub(p: str, name: str, lanes: list[str], steps: list[tuple]) -> ProcessBuilder:
    """The permit's decision tables and what follows from them, in a row. ``steps``: (kind, id, name,
    decision id or script, lane) with kind ``rule`` or ``script``."""
    b = _sub(f"{p}rules", name, *lanes)
    b.start(f"{p}rules_start", "规则判定")
    for kind, node_id, step_name, body, lane in steps:
        if kind == "rule":
            b.business_rule(node_id, step_name, body, lane=lane)
        else:
            b.script(node_id, step_name, body, lane=lane)
    last_lane = steps[-1][4]
    b.end(f"{p}rules_end", "已判定", lane=last_lane)
    b.chain(f"{p}rules_start", *[s[1] for s in steps], f"{p}rules_end")
    return _only_used_lanes(b)


def unit_review_sub(p: str, process_key: str, *, title: str, review: str, review_name: str, form: str,
                    not_completed_by: str, check: str, check_name: str, check_script: str, gw_name: str,
                    blocked: str = "simops_blocked", blocked_name: str = "交叉作业无协调人") -> ProcessBuilder:
    """The unit's review with the SIMOPS check: the live permits of the area are looked up before the
    review (and again by ``check``); a blocked approval goes round to the review again; it ends with
    the unit's ``decision`` (退回, 同意, 不同意 are routed in the plane above)."""
    b = _sub(f"{p}unit", title, PRODUCTION)
    b.start(f"{p}unit_start", "审核")
    b.business_rule("simops_rule", "交叉作业票类别", "simops_matrix", lane=PRODUCTION)
    b.script("simops_lookup", "查询区域内在办作业票", simops_lookup(process_key), lane=PRODUCTION)
    b.user(review, review_name, lane=PRODUCTION, form=form,
           props={"not_completed_by": not_completed_by, "priority": "70"})
    b.script(check, check_name, check_script, lane=PRODUCTION)
    b.xor("unit_gw", gw_name, default=f"Flow_{p}unit_reject")
    b.end(f"{p}unit_sent_back", "退回", lane=PRODUCTION)
    b.end(f"{p}unit_approved", "同意", lane=PRODUCTION)
    b.end(f"{p}unit_rejected", "不同意", lane=PRODUCTION)
    b.chain(f"{p}unit_start", "simops_rule", "simops_lookup", review, check, "unit_gw")
    b.flow("unit_gw", f"{p}unit_sent_back", condition="decision == 'send_back'", flow_id=f"Flow_{p}unit_send_back",
           name="退回")
    b.flow("unit_gw", "simops_lookup", condition=f"decision == 'approve' and {blocked}",
           flow_id=f"Flow_{p}unit_blocked", name=blocked_name)
    b.flow("unit_gw", f"{p}unit_approved", condition=f"decision == 'approve' and not {blocked}",
           flow_id=f"Flow_{p}unit_ok", name="同意")
    b.flow("unit_gw", f"{p}unit_rejected", flow_id=f"Flow_{p}unit_reject", name="不同意")
    return b


def application_sub(p: str, process_key: str, *, title: str, lanes: list[str], init: str, apply: str,
                    apply_name: str, apply_form: str, rules: ProcessBuilder, unit: ProcessBuilder,
                    unit_gw_name: str, services=None, approval=None) -> ProcessBuilder:
    """申请与审批: the register entry (once), the application and every 退回 back to it (an unknown
    work-plan number, the unit's review, the approver), the rules and the unit's review with the
    SIMOPS check; it ends with the last reviewer's ``decision``.

    ``services(b, after, apply, then)``: optional steps between the rules and the unit's review
    (excavation's countersigning of buried services). ``approval(b, apply, approved, rejected)``:
    the approver after the unit (its task and gateway; returns the task); without it the unit's
    approval is final."""
    b = _sub(f"{p}application", title, *lanes)
    b.start(f"{p}application_start", "申请")
    # The permit's register entry, once: the 退回 loops below go back to the application, not here.
    b.script("init", "作业票登记", init, lane=WORKER)
    b.user(apply, apply_name, lane=WORKER, form=apply_form, props=APPLICANT_OVERRIDES)
    b.sub(f"{p}plan_check", "核对并关联作业计划", plan_check_sub(p, process_key), lane=WORKER)
    b.xor("plan_gw", "计划编号有效?", default=f"Flow_{p}plan_ok")
    b.sub(rules.process_id, rules.name, rules, lane=WORKER)
    if services:
        services(b, rules.process_id, apply, unit.process_id)
    b.sub(unit.process_id, unit.name, unit, lane=PRODUCTION)
    b.xor("unit_result_gw", unit_gw_name, default=f"Flow_{p}unit_result_reject")
    approved, rejected = f"{p}application_approved", f"{p}application_rejected"
    b.end(approved, "批准", lane=PRODUCTION)
    b.end(rejected, "不同意", lane=PRODUCTION)

    b.chain(f"{p}application_start", "init", apply, f"{p}plan_check", "plan_gw")
    b.flow("plan_gw", apply, condition="bool(work_plan_ref_error)", flow_id=f"Flow_{p}plan_bad",
           name="计划编号不存在，退回申请人")
    b.flow("plan_gw", rules.process_id, flow_id=f"Flow_{p}plan_ok")
    if not services:
        b.chain(rules.process_id, unit.process_id)
    b.chain(unit.process_id, "unit_result_gw")
    b.flow("unit_result_gw", apply, condition="decision == 'send_back'", flow_id=f"Flow_{p}unit_result_send_back",
           name="退回")
    if approval:
        first = approval(b, apply, approved, rejected)
        b.flow("unit_result_gw", first, condition="decision == 'approve'", flow_id=f"Flow_{p}unit_result_ok",
               name="同意")
    else:
        b.flow("unit_result_gw", approved, condition="decision == 'approve'", flow_id=f"Flow_{p}unit_result_ok",
               name="批准")
    b.flow("unit_result_gw", rejected, flow_id=f"Flow_{p}unit_result_reject", name="不同意")
    return _only_used_lanes(b)


def _suspension(b: ProcessBuilder, p: str, tasks: list[str], *, gas: bool, gas_alarm: bool, suffix: str,
                back: str, resume: str) -> None:
    """Stop-work on ``tasks`` (correlated by area, or area and equipment, as hot work) suspends the
    permit and waits for the restart, then goes to ``back``; with ``gas_alarm`` the gas alarm of the
    area suspends it too where the permit needs gas analysis (then ``back``), elsewhere it is noted
    and the permit goes to ``resume``."""
    b.script(f"{p}suspend_stop{suffix}", "停工指令：暂停作业", suspend_script("stop_work", gas), lane=LEADER)
    b.message_catch(f"{p}wait_restart{suffix}", "等待复工指令", "restart", lane=LEADER, props=BY_EQUIPMENT)
    for task in tasks:
        tail = task.split("_", 1)[1]
        b.message_boundary(f"{p}stop_{tail}", "停工指令", task, "stop_work", props=BY_EQUIPMENT)
        b.chain(f"{p}stop_{tail}", f"{p}suspend_stop{suffix}")
    b.chain(f"{p}suspend_stop{suffix}", f"{p}wait_restart{suffix}", back)
    if not gas_alarm:
        return
    b.script(f"{p}suspend_alarm{suffix}", "气体报警：暂停作业", suspend_script("gas_alarm", gas), lane=LEADER)
    b.xor(f"{p}alarm_gw{suffix}", "报警涉及本作业?", default=f"Flow_{p}alarm_elsewhere{suffix}")
    b.script(f"{p}alarm_noted{suffix}", "登记报警（非火灾爆炸危险场所）",
             "alarms_noted = alarms_noted + [now().isoformat()]", lane=LEADER)
    for task in tasks:
        tail = task.split("_", 1)[1]
        b.message_boundary(f"{p}alarm_{tail}", "气体报警", task, "gas_alarm")
        b.chain(f"{p}alarm_{tail}", f"{p}alarm_gw{suffix}")
    b.flow(f"{p}alarm_gw{suffix}", f"{p}suspend_alarm{suffix}", condition="gas_required",
           flow_id=f"Flow_{p}alarm_here{suffix}", name="火灾爆炸危险场所：暂停")
    b.flow(f"{p}alarm_gw{suffix}", f"{p}alarm_noted{suffix}", flow_id=f"Flow_{p}alarm_elsewhere{suffix}",
           name="不涉及：继续")
    b.chain(f"{p}suspend_alarm{suffix}", back)
    b.chain(f"{p}alarm_noted{suffix}", resume)


def prework_sub(p: str, *, title: str, checks: list[str], add_checks, gas_task: str | None = None,
                gas_alarm: bool = False) -> ProcessBuilder:
    """作业前检查: every way into the work (issue, a suspension, a passing analysis, a site check)
    goes through one dispatch script and gateway that sends the permit to the first check still
    missing — validity (4.16), a fresh gas sample where the permit needs one, the shift leader's site
    check — and ends ready (``permit_valid``) or expired. ``add_checks(b)`` defines the checks (all in
    the shift leader's lane) and their paths back into ``{p}dispatch``. Waiting here the permit is
    live: a stop (and a gas alarm) suspends it again, as on the work."""
    gas = gas_task is not None
    b = _sub(f"{p}prework", title, LEADER)
    b.start(f"{p}prework_start", "检查")
    b.script(f"{p}dispatch", "作业前检查（有效期、样品时效、现场确认）" if gas else "作业前检查（有效期、现场确认）",
             dispatch_script(gas), lane=LEADER)
    b.xor(f"{p}dispatch_gw", "下一步", default=f"Flow_{p}to_work")
    # The dispatch finds an expired permit here: the expiry timer watches the work task only.
    b.script(f"{p}expire_at_start", "作业票到期", "permit_status = 'expired'", lane=LEADER)
    b.end(f"{p}prework_ready", "可以作业", lane=LEADER)
    b.end(f"{p}prework_expired", "作业票已过期", lane=LEADER)
    add_checks(b)
    b.chain(f"{p}prework_start", f"{p}dispatch", f"{p}dispatch_gw")
    b.flow(f"{p}dispatch_gw", f"{p}expire_at_start", condition="not permit_valid",
           flow_id=f"Flow_{p}expired_before", name="作业票已过期")
    if gas:
        b.flow(f"{p}dispatch_gw", gas_task, condition="permit_valid and not sample_fresh",
               flow_id=f"Flow_{p}to_gas", name="须气体分析（无样品或超过时效）")
    b.flow(f"{p}dispatch_gw", checks[-1], condition="permit_valid and sample_fresh and not site_checked",
           flow_id=f"Flow_{p}to_site", name="现场确认")
    b.flow(f"{p}dispatch_gw", f"{p}prework_ready", flow_id=f"Flow_{p}to_work", name="开始/恢复作业")
    b.chain(f"{p}expire_at_start", f"{p}prework_expired")
    _suspension(b, p, checks, gas=gas, gas_alarm=gas_alarm, suffix="_waiting", back=f"{p}dispatch",
                resume=f"{p}dispatch")
    return b


def working_sub(p: str, *, title: str, lanes: list[str], work: str, add_work, gas: bool = False,
                gas_alarm: bool = False) -> ProcessBuilder:
    """作业: the work under its validity timer (from the issue); a stop or a gas alarm (where the
    permit needs gas analysis) suspends the permit and ends here for the pre-work checks again
    (``permit_status`` 'suspended'); the expiry ends the work (``permit_status`` 'expired').
    ``add_work(b, done)`` defines the work task ``work`` and its way to the end ``done``.
    An alarm elsewhere is noted and the permit checked as the dispatch would (it is valid, its site
    checked, and no sample is needed there), so the work resumes, or ends as expired."""
    b = _sub(f"{p}working", title, *lanes)
    b.start(f"{p}working_start", "开始作业")
    b.script(f"{p}work_start", "开始/恢复作业", WORK_START, lane=WORKER)
    b.script(f"{p}expire", "作业票到期", "permit_status = 'expired'", lane=LEADER)
    done = f"{p}working_done"
    b.end(done, "作业完成", lane=WORKER)
    b.end(f"{p}working_suspended", "已暂停，重新检查", lane=LEADER)
    b.end(f"{p}working_expired", "作业票到期", lane=LEADER)
    add_work(b, done)
    b.timer_boundary(f"{p}expired", "作业票到期", work, "date", "permit_expires_at")
    b.chain(f"{p}working_start", f"{p}work_start", work)
    b.chain(f"{p}expired", f"{p}expire", f"{p}working_expired")
    resume = f"{p}work_start"
    if gas_alarm:
        # The dispatch of the pre-work plane, for the one way it can go from here.
        b.script(f"{p}recheck", "作业前检查（有效期）", dispatch_script(gas), lane=LEADER)
        b.xor(f"{p}recheck_gw", "作业票有效?", default=f"Flow_{p}recheck_ok")
        b.flow(f"{p}recheck_gw", f"{p}expire", condition="not permit_valid", flow_id=f"Flow_{p}recheck_expired",
               name="作业票已过期")
        b.flow(f"{p}recheck_gw", f"{p}work_start", flow_id=f"Flow_{p}recheck_ok", name="继续作业")
        b.chain(f"{p}recheck", f"{p}recheck_gw")
        resume = f"{p}recheck"
    _suspension(b, p, [work], gas=gas, gas_alarm=gas_alarm, suffix="", back=f"{p}working_suspended",
                resume=resume)
    return _only_used_lanes(b)


def approver_decision(b: ProcessBuilder, task: str, gateway: str, name: str, flows: str, *, approved: str,
                      apply: str, rejected: str) -> None:
    """The approver ``task``'s ``decision`` routed by ``gateway``: 批准 to ``approved``, 退回 to the
    application ``apply``, anything else (不批准, the default) to ``rejected``; flow ids ``Flow_<flows>_…``."""
    b.xor(gateway, name, default=f"Flow_{flows}_reject")
    b.chain(task, gateway)
    b.flow(gateway, approved, condition="decision == 'approve'", flow_id=f"Flow_{flows}_ok", name="批准")
    b.flow(gateway, apply, condition="decision == 'send_back'", flow_id=f"Flow_{flows}_send_back", name="退回")
    b.flow(gateway, rejected, flow_id=f"Flow_{flows}_reject", name="不批准")


def pause_path(b: ProcessBuilder, p: str, gateway: str) -> None:
    """The crew's pause from the work's ``gateway`` (``action`` ``pause``, its ``pause_reason`` required
    by the form, :func:`special_ops.pausable`): the permit is taken back (GB 30871 4.10: the monitor has to
    leave) and ends the work phase ``paused`` with its site check cleared, so the dispatch sends it to
    the shift leader's site check (monitor present) before the work goes on."""
    b.script(f"{p}pause", "作业暂停登记（收回作业票）", PAUSE_RECORD + "\nsite_checked = False", lane=WORKER)
    b.flow(gateway, f"{p}pause", condition="action == 'pause'", flow_id=f"Flow_{p}work_pause", name="暂停")
    b.chain(f"{p}pause", f"{p}working_suspended")


def main_path(b: ProcessBuilder, p: str, *, start_name: str, application: ProcessBuilder, prework: ProcessBuilder,
              working: ProcessBuilder, acceptance: ProcessBuilder, issue_lane: str, prework_lane: str,
              acceptance_lane: str, after_issue: list[str]) -> None:
    """The main plane: 申请与审批 ⊞ → 批准? → 签发 (→ ``after_issue``) → 作业前检查 ⊞ → 可以作业? → 作业 ⊞ →
    作业结果 → 验收与关闭 ⊞ (``acceptance_sub``; ``after_issue``: steps the caller defines). A
    suspension in the work goes back to the pre-work checks; an expiry before or in the work, a
    completion and an ended work go to the acceptance (the site made safe)."""
    b.start("start", start_name, variables=["area"])
    b.sub(application.process_id, application.name, application, lane=WORKER)
    b.xor("application_gw", "批准?", default="Flow_application_rejected")
    b.script("issue", "签发作业票", issue_script(), lane=issue_lane)
    b.sub(prework.process_id, prework.name, prework, lane=prework_lane)
    b.xor("prework_gw", "可以作业?", default="Flow_prework_ready")
    b.sub(working.process_id, working.name, working, lane=WORKER)
    b.xor("working_gw", "作业结果", default="Flow_working_done")
    b.sub(acceptance.process_id, acceptance.name, acceptance, lane=acceptance_lane)
    b.end("end", "作业票关闭", lane=acceptance_lane)
    b.script("reject", "作业票作废", "permit_status = 'rejected'", lane=PRODUCTION)
    b.end("rejected", "不予批准", lane=PRODUCTION)
    b.chain("start", application.process_id, "application_gw")
    b.flow("application_gw", "issue", condition="decision == 'approve'", flow_id="Flow_application_approved",
           name="批准")
    b.flow("application_gw", "reject", flow_id="Flow_application_rejected", name="不同意")
    b.chain("reject", "rejected")
    b.chain("issue", *after_issue, prework.process_id, "prework_gw")
    b.flow("prework_gw", acceptance.process_id, condition="not permit_valid", flow_id="Flow_prework_expired",
           name="作业票已过期")
    b.flow("prework_gw", working.process_id, flow_id="Flow_prework_ready", name="开始/恢复作业")
    b.chain(working.process_id, "working_gw")
    b.flow("working_gw", prework.process_id, condition="permit_status in ('suspended', 'paused')",
           flow_id="Flow_working_suspended", name="暂停：复工前重新检查")
    b.flow("working_gw", acceptance.process_id, flow_id="Flow_working_done", name="完成、到期或终止")
    b.chain(acceptance.process_id, "end")


def acceptance_sub(p: str, title: str, lane: str, add_acceptance) -> ProcessBuilder:
    """验收与关闭: ``add_acceptance(b, close)`` defines the acceptance (and what follows it) up to the
    close script ``close``; an expired or cancelled permit is accepted too but keeps its status."""
    b = _sub(f"{p}closing", title, lane)
    b.start(f"{p}closing_start", "验收")
    b.script("close", "关闭作业票", close_script(), lane=lane)
    b.end(f"{p}closing_end", "已关闭", lane=lane)
    first = add_acceptance(b, "close")
    b.chain(f"{p}closing_start", first)
    b.chain("close", f"{p}closing_end")
    return b


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
