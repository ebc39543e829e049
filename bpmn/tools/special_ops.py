"""The shape the further special-operation permits share (blinding, work at height, lifting, …).

Hot work and confined space are drawn by hand in ``build_library.py``; the other kinds of GB 30871
follow one compact happy path, built here so every permit reads the same in the modeler and in the
register:

    apply → grade/rules (DMN) → [kind's own checks] → SIMOPS lookup → unit review (coordinator) →
    approval chain by ``final_approver`` (production → supervision → plant leader, each step a
    different person) → issue (validity counted from here) → [gas analysis] → site check by the shift
    leader → work → acceptance by production → closed

with the live states guarded: ``stop_work`` (by area or equipment, as hot work) suspends the permit
until ``restart``; the kind's alarms (``gas_alarm``, ``wind_alarm``, correlated by area) suspend it
until the pre-work checks pass again; the validity timer withdraws it. A module
``permit_<kind>.py`` describes its kind with :class:`PermitSpec` and calls :func:`build`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable
from xml.sax.saxutils import escape

from build_library import (APPLICANT_OVERRIDES, BY_EQUIPMENT, LEADER, LEADER_IN_CHARGE, PRODUCTION, SIMOPS_CLEAR,
                           SIMOPS_DECIDE, SUPERVISION, WORKER, ProcessBuilder, link_to_work_plan, simops_lookup, text,
                           when_sample_time_ok)

# The approval steps in chain order: (final_approver value of the DMN, suffix, lane, task name, form).
# A permit stops at the step its DMN names as final approver; every step is a different person
# (not_completed_by names every earlier step, GB 30871 4.11 on-site approval is in the forms).
CHAIN = [("production", "unit_review", PRODUCTION, "作业单位审批", "confined_space_review.json"),
         ("supervision", "dept_approval", SUPERVISION, "专业管理部门审批", "permit_review.json"),
         ("plant_leader", "leader_approval", LEADER_IN_CHARGE, "主管领导审批", "permit_review.json")]

LIVE_INIT = ("permit_status = 'applying'\npermit_expires_at = ''\nissued_at = ''\nwork_started_at = ''\n"
             "suspended_by = ''\nsimops_conflicts = []\nactive_permits_in_area = []\n"
             "simops_refusal = ''\npainting_planned = False\n"
             # Kept over a send-back (which comes back here): the applicant's plan number and its link.
             "try:\n    work_plan_ref, work_plan_linked\nexcept NameError:\n"
             "    work_plan_ref = ''\n    work_plan_linked = False\n"
             # SpiffWorkflow merges a COLLECT table's output lists into those already in the data
             # (DeepMerge), dropping values already present — even from the new list itself when one
             # exists ([False, False] merged into [] is [False]). A send-back comes back here, so the
             # lists are removed, not emptied: the table then sets them whole.
             + SIMOPS_CLEAR)


@dataclass
class PermitSpec:
    key: str                     # process key, e.g. blinding_permit
    prefix: str                  # task id prefix, e.g. bl
    name: str                    # process name
    documentation: str           # the clauses the diagram encodes (process documentation)
    apply_name: str
    apply_form: str
    rules: list[tuple[str, str, str]]          # (id, name, decision id) in the worker's lane after the application
    simops_decision: str                       # COLLECT table of SIMOPS_OUTPUTS rows (simops_matrix)
    site_check_name: str
    site_check_form: str
    work_name: str
    work_form: str
    acceptance_form: str
    alarms: list[tuple[str, str]] = field(default_factory=list)   # (message, name) that suspend the permit
    chain_length: int = 3                     # how many CHAIN steps this kind can need
    gas_analysis: bool = False                # a gas analysis before work when gas_analysis_required
    gas_form: str = ""
    init: str = ""                            # extra initial variables
    start_check: str = ""                     # extra script lines of the start check (set start_blocked_reason)
    # Checks of the kind between the rules and the SIMOPS review: gets the builder and the id of the
    # node after it, returns the id of its first node.
    checks: Callable | None = None


# The application's fields for the work-plan link (link_to_work_plan): every permit's form has them.
PLAN_REF_FIELDS = {
    "work_plan_ref": text("作业计划编号（计划中的特殊作业据此关联）", min_length=0, max_length=200),
    "work_plan_ref_error": text("作业计划编号核对结果", min_length=0, readOnly=True),
}


def documented(xml: str, text: str) -> str:
    """``xml`` with a process-level ``bpmn:documentation`` (the first child of the process, as BPMN
    requires); modelers show it in the process properties."""
    head, sep, rest = xml.partition("<bpmn:process ")
    tag_end = rest.index(">") + 1
    return head + sep + rest[:tag_end] + f"\n<bpmn:documentation>{escape(text)}</bpmn:documentation>" + rest[tag_end:]


def build(s: PermitSpec) -> str:
    p = s.prefix
    b = ProcessBuilder(s.key, s.name)
    lanes = [WORKER, PRODUCTION] + [c[2] for c in CHAIN[1:s.chain_length]] + [LEADER]
    for lane in lanes:
        b.lane(lane)
    b.start("start", "申请作业", variables=["area"])
    kind = s.key.removesuffix("_permit")
    b.script("init", "作业票登记", f"permit_type = '{kind}'\n" + LIVE_INIT + (s.init or ""), lane=WORKER)
    b.user(f"{p}_apply", s.apply_name, lane=WORKER, form=s.apply_form, props=APPLICANT_OVERRIDES)
    for rid, rname, decision in s.rules:
        b.business_rule(rid, rname, decision, lane=WORKER)
    b.business_rule("simops_rule", "交叉作业票类别", s.simops_decision, lane=PRODUCTION)
    b.script("simops_lookup", "查询区域内在办作业票", simops_lookup(s.key), lane=PRODUCTION)
    steps = CHAIN[:s.chain_length]
    done = []
    for i, (who, suffix, lane, tname, form) in enumerate(steps):
        tid = f"{p}_{suffix}"
        b.user(tid, tname, lane=lane, form=form,
               props={"not_completed_by": ",".join([f"{p}_apply"] + done), "priority": str(70 + 10 * i)})
        done.append(tid)
    b.script("simops_check", "交叉作业冲突检查", simops_lookup(s.key) +  # again: a permit may have started meanwhile
             "simops_conflicts = active_permits_in_area\n" + SIMOPS_DECIDE, lane=PRODUCTION)
    b.script("reject", "作业票作废", "permit_status = 'rejected'", lane=PRODUCTION)
    b.end("rejected", "不予批准", lane=PRODUCTION)
    # Validity counts from the issue (GB 30871 4.16: an expired permit needs a new one), not from the start.
    b.script("issue", "签发作业票", "permit_status = 'issued'\nissued_at = now().isoformat()\n"
             "permit_expires_at = (now() + hours(validity_hours)).isoformat()", lane=LEADER)
    site = f"{p}_site_check"
    prework = site
    waiting = [site]
    if s.gas_analysis:
        prework = "gas_needed_gw"
        b.xor("gas_needed_gw", "须气体分析?", default=f"Flow_{p}_no_gas", lane=LEADER)
        b.user(f"{p}_gas_analysis", "气体分析", lane=LEADER, form=s.gas_form, props={"priority": "80"})
        b.script("gas_check", "判定分析结果", when_sample_time_ok(
            "gas_pass = combustible_pct <= max_combustible_pct and bool(toxic_within_limits)\n"
            "gas_results = gas_results + [{'at': sampled_at, 'combustible_pct': combustible_pct, 'pass': gas_pass}]"),
            lane=LEADER)
        b.xor("gas_gw", "分析合格?", default=f"Flow_{p}_gas_ok", lane=LEADER)
        waiting.insert(0, f"{p}_gas_analysis")
    b.user(site, s.site_check_name, lane=LEADER, form=s.site_check_form, props={"priority": "80"})
    b.script("start_check", "作业前检查", (
        "start_blocked_reason = ''\n"
        + (s.start_check or "") +
        ("if gas_analysis_required and (now() - parse_datetime(sampled_at)).total_seconds() / 60 > "
         "sample_max_age_minutes:\n    gas_stale = True\nelse:\n    gas_stale = False\n" if s.gas_analysis else "")
        + "permit_valid = not permit_expires_at or now() < parse_datetime(permit_expires_at)"), lane=LEADER)
    b.xor("start_gw", "可以开始?", default=f"Flow_{p}_start_ok", lane=LEADER)
    b.script("work_start", "开始/恢复作业", (
        "if not work_started_at:\n    work_started_at = now().isoformat()\n"
        "permit_status = 'active'\nsuspended_by = ''"), lane=WORKER)
    work = f"{p}_work"
    b.user(work, s.work_name, lane=WORKER, form=s.work_form,
           props={"due": "parse_datetime(permit_expires_at)", "priority": "60"})
    b.timer_boundary("expired", "作业票到期", work, "date", "permit_expires_at")
    # Every live state catches the stop and the kind's alarms: the work, and the waits for the
    # (re-)analysis and the site check — a stop lost there would let the work start again.
    for host in [work] + waiting:
        sfx = "" if host == work else "_" + host.split("_", 1)[1]
        b.message_boundary(f"stop_work{sfx}", "停工指令", host, "stop_work", props=BY_EQUIPMENT)
        for message, mname in s.alarms:
            b.message_boundary(f"{message}{sfx}", mname, host, message)
    b.script("suspend_stop", "停工指令：暂停作业", (
        "permit_status = 'suspended'\nsuspended_at = now().isoformat()\nsuspended_by = 'stop_work'"), lane=LEADER)
    b.message_catch("wait_restart", "等待复工指令", "restart", lane=LEADER, props=BY_EQUIPMENT)
    for message, mname in s.alarms:
        b.script(f"suspend_{message}", f"{mname}：暂停作业", (
            f"permit_status = 'suspended'\nsuspended_at = now().isoformat()\nsuspended_by = '{message}'"),
            lane=LEADER)
    b.script("expire", "作业票失效", "permit_status = 'expired'", lane=LEADER)
    b.user(f"{p}_withdraw", "收回作业票", lane=LEADER, form="permit_withdrawal.json", props={"priority": "90"})
    b.end("withdrawn", "作业票收回（需重新办理）", lane=LEADER)
    b.user(f"{p}_acceptance", "完工验收", lane=PRODUCTION, form=s.acceptance_form,
           props={"not_completed_by": f"{p}_apply", "priority": "70"})
    b.script("close", "关闭作业票", "permit_status = 'closed'\nclosed_at = now().isoformat()", lane=PRODUCTION)
    b.end("end", "作业票关闭", lane=PRODUCTION)

    # ---- flows
    b.chain("start", "init", f"{p}_apply")
    rule_ids = [r[0] for r in s.rules]
    after_rules = s.checks(b, "simops_rule") if s.checks else "simops_rule"
    # A permit naming a work plan (work_plan_ref) is checked against the running plans and announces
    # itself to that plan, which lists it among the plan's special operations (4.6), as hot work does.
    link_to_work_plan(b, f"{p}_apply", rule_ids[0], s.key, WORKER)
    b.chain(*rule_ids, after_rules)
    b.chain("simops_rule", "simops_lookup", done[0], "simops_check")
    for i, (who, suffix, lane, tname, form) in enumerate(steps):
        gw = f"{suffix}_gw"
        b.xor(gw, tname + "结论", default=f"Flow_{p}_{suffix}_reject", lane=lane)
        source = "simops_check" if i == 0 else done[i]
        b.flow(source, gw)
        b.flow(gw, "init", condition="decision == 'send_back'", flow_id=f"Flow_{p}_{suffix}_send_back", name="退回")
        ok = "decision == 'approve'"
        if i == 0:
            b.flow(gw, "simops_lookup", condition=ok + " and simops_blocked", flow_id=f"Flow_{p}_simops",
                   name="标准禁止的交叉作业，或冲突无协调人")
            ok += " and not simops_blocked"
        if i + 1 < len(steps):
            b.flow(gw, "issue", condition=f"{ok} and final_approver == '{who}'", flow_id=f"Flow_{p}_{suffix}_final",
                   name="同意，签发")
            b.flow(gw, done[i + 1], condition=f"{ok} and final_approver != '{who}'", flow_id=f"Flow_{p}_{suffix}_next",
                   name="同意，报" + steps[i + 1][3].replace("审批", ""))
        else:
            b.flow(gw, "issue", condition=ok, flow_id=f"Flow_{p}_{suffix}_ok", name="同意，签发")
        b.flow(gw, "reject", flow_id=f"Flow_{p}_{suffix}_reject", name="不同意")
    b.chain("reject", "rejected")
    b.chain("issue", prework)
    if s.gas_analysis:
        b.flow("gas_needed_gw", f"{p}_gas_analysis", condition="gas_analysis_required", flow_id=f"Flow_{p}_gas",
               name="火灾爆炸危险场所：气体分析")
        b.flow("gas_needed_gw", site, flow_id=f"Flow_{p}_no_gas", name="其他场所")
        b.chain(f"{p}_gas_analysis", "gas_check", "gas_gw")
        b.flow("gas_gw", f"{p}_gas_analysis", condition="not gas_pass", flow_id=f"Flow_{p}_gas_fail",
               name="不合格或采样时间无效，重新分析")
        b.flow("gas_gw", site, flow_id=f"Flow_{p}_gas_ok", name="合格")
    b.chain(site, "start_check", "start_gw")
    b.flow("start_gw", "expire", condition="not permit_valid", flow_id=f"Flow_{p}_start_expired", name="作业票已过期")
    if s.gas_analysis:
        b.flow("start_gw", f"{p}_gas_analysis", condition="permit_valid and gas_stale", flow_id=f"Flow_{p}_stale",
               name="样品超过时效，重新分析")
    b.flow("start_gw", site, condition="permit_valid and bool(start_blocked_reason)" +
           (" and not gas_stale" if s.gas_analysis else ""), flow_id=f"Flow_{p}_blocked", name="条件不具备，重新确认")
    b.flow("start_gw", "work_start", flow_id=f"Flow_{p}_start_ok", name="开始")
    b.chain("work_start", work, f"{p}_acceptance", "close", "end")
    b.chain("expired", "expire", f"{p}_withdraw", "withdrawn")
    for host in [work] + waiting:
        sfx = "" if host == work else "_" + host.split("_", 1)[1]
        b.chain(f"stop_work{sfx}", "suspend_stop")
        for message, _ in s.alarms:
            b.chain(f"{message}{sfx}", f"suspend_{message}")
    b.chain("suspend_stop", "wait_restart", prework)
    for message, _ in s.alarms:
        b.chain(f"suspend_{message}", prework)
    return documented(b.to_xml(), s.documentation)
