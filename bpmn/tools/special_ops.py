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

Drawn as hot work is: a short main path whose phases (application and approval, pre-work checks,
work) are collapsed embedded sub-processes, each on a plane of its own that fits a laptop screen.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Callable
from xml.sax.saxutils import escape

from build_library import (APPLICANT_OVERRIDES, BY_EQUIPMENT, LEADER, LEADER_IN_CHARGE, PRODUCTION, SIMOPS_CLEAR,
                           PERMIT_VALID, SIMOPS_DECIDE, SUPERVISION, WORKER, ProcessBuilder, choice, form,
                           link_to_work_plan, simops_lookup, text, when_sample_time_ok)

# The approval steps in chain order: (final_approver value of the DMN, suffix, lane, task name, form).
# A permit stops at the step its DMN names as final approver; every step is a different person
# (not_completed_by names every earlier step, GB 30871 4.11 on-site approval is in the forms).
CHAIN = [("production", "unit_review", PRODUCTION, "作业单位审批", "confined_space_review.json"),
         ("supervision", "dept_approval", SUPERVISION, "专业管理部门审批", "permit_review.json"),
         ("plant_leader", "leader_approval", LEADER_IN_CHARGE, "主管领导审批", "permit_review.json")]

LIVE_INIT = ("permit_status = 'applying'\npermit_expires_at = ''\nissued_at = ''\nwork_started_at = ''\n"
             "suspended_by = ''\npauses = []\nsimops_conflicts = []\nactive_permits_in_area = []\n"
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
    # Checks of the kind after its rules, in the phase that checks the application: gets that phase's
    # builder and the id of the node after it, returns the id of its first node.
    checks: Callable | None = None
    checks_name: str = ""                     # what they check, in the name of that phase
    back_when: str = ""                       # " or <condition>": their results that send it back too,
    back_reason: str = ""                     # and why (in the flow's name)
    # Where else the application goes after those checks (tested after the send-back, before the
    # unit's review): gets the application phase's builder and the id of its gateway.
    check_routes: Callable | None = None
    # The kind's own ends of the application phase, routed on the main plane: gets the main builder and
    # the id of the gateway after the application phase; its flows there are tested before 批准.
    outcomes: Callable | None = None


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


PAUSE_REASONS = [("monitor_left", "监护人离开（收回作业票，4.10）"), ("shift_change", "交接班"),
                 ("weather", "天气变化"), ("other", "其他")]


# What a pause records (``pauses`` starts empty at the register entry; ``pause_reason`` is required with a
# pause by the form, so each pause names its own).
PAUSE_RECORD = ("permit_status = 'paused'\npaused_at = now().isoformat()\n"
                "pauses = pauses + [{'at': paused_at, 'reason': pause_reason}]")
PAUSE_NOTE = "监护人必须离开时，应暂停作业、收回作业票；监护人回到现场、经当班班长重新确认后方可继续（4.10）。"


def pausable(schema: str) -> str:
    """A work form (JSON Schema text with an ``action`` choice) that also lets the crew pause the work:
    ``action`` ``pause`` with a ``pause_reason`` from :data:`PAUSE_REASONS`, required with a pause
    (a second pause names its own). GB 30871 4.10: the permit is taken back while the monitor is away."""
    data = json.loads(schema)
    data["properties"]["action"]["oneOf"].append({"const": "pause", "title": "暂停作业，收回作业票"})
    props = {}
    for key, value in data["properties"].items():  # the reason right under the choice it belongs to
        props[key] = value
        if key == "action":
            props["pause_reason"] = choice("暂停原因", PAUSE_REASONS)
    data["properties"] = props
    data["description"] = PAUSE_NOTE
    data.setdefault("allOf", []).append(
        {"if": {"properties": {"action": {"const": "pause"}}}, "then": {"required": ["pause_reason"]}})
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def work_form(title: str, done: str) -> str:
    """The work task's form of a special operation: done (``done`` says what that means for the kind), or
    paused by the crew with its reason; a pause sends the permit back to the site check (4.10)."""
    return pausable(form(title, {"action": choice("作业状态", [("complete", done)]), "note": text("说明", min_length=0)},
                         ["action"]))


def build(s: PermitSpec) -> str:
    """The permit as a short main path whose phases are collapsed embedded sub-processes, each drawn
    on a plane of its own that fits a laptop (as hot work is drawn, build_library.hot_work_permit):

    * main plane: 申请与审批 ⊞ → 批准? → 签发作业票 → 作业前确认 ⊞ → 可以作业? → 作业 ⊞ → 作业结果 →
      完工验收 → 关闭; not approved → 作废; expired → 收回; suspended → back to 作业前确认;
    * ``<p>_application``: register, application, checks ⊞ (work plan, rules, [kind's checks]),
      unit review ⊞ (SIMOPS), [approval chain ⊞], every 退回 back to the register;
    * ``<p>_prework``: [gas analysis until it passes], site check, start check; stop/alarm while waiting;
    * ``<p>_working``: the work under its validity timer, stop-work and the kind's alarms.

    A sub-process ends where the flow used to leave it and a gateway outside routes on data that
    already exists (``decision``, ``final_approver``, ``permit_status``); every task keeps its id and
    its boundary events in its own plane (a boundary event on a sub-process would carry the data of
    the sub-process's start, not the task's), so the tasks, their data and the paths through them
    are those of the unsplit diagram. Where one step is needed on two planes it is there twice under
    its own id: the suspension scripts and the wait for the restart of the waiting states
    (``suspend_stop_waiting``, ``suspend_<alarm>_waiting``, ``wait_restart_waiting``) and the expiry
    found before the start (``expire_at_start``)."""
    p = s.prefix
    b = ProcessBuilder(s.key, s.name)
    # The reviewers' lanes (supervision, plant leader) are inside the approval phase only.
    b.lane(WORKER).lane(PRODUCTION).lane(LEADER)
    b.start("start", "申请作业", variables=["area"])
    b.sub(f"{p}_application", "申请与审批（含退回）", _application(s), lane=WORKER)
    b.xor("application_gw", "批准?", default=f"Flow_{p}_application_rejected")
    # Validity counts from the issue (GB 30871 4.16: an expired permit needs a new one), not from the start.
    b.script("issue", "签发作业票", "permit_status = 'issued'\nissued_at = now().isoformat()\n"
             "permit_expires_at = (now() + hours(validity_hours)).isoformat()", lane=LEADER)
    b.sub(f"{p}_prework", "气体分析与作业前确认" if s.gas_analysis else "作业前现场确认", _prework(s), lane=LEADER)
    b.xor("prework_gw", "可以作业?", default=f"Flow_{p}_prework_ready")
    b.sub(f"{p}_working", s.work_name, _working(s), lane=WORKER)
    b.xor("working_gw", "作业结果", default=f"Flow_{p}_working_done")
    b.user(f"{p}_withdraw", "收回作业票", lane=LEADER, form="permit_withdrawal.json", props={"priority": "90"})
    b.end("withdrawn", "作业票收回（需重新办理）", lane=LEADER)
    b.user(f"{p}_acceptance", "完工验收", lane=PRODUCTION, form=s.acceptance_form,
           props={"not_completed_by": f"{p}_apply", "priority": "70"})
    b.script("close", "关闭作业票", "permit_status = 'closed'\nclosed_at = now().isoformat()", lane=PRODUCTION)
    b.end("end", "作业票关闭", lane=PRODUCTION)
    b.script("reject", "作业票作废", "permit_status = 'rejected'", lane=PRODUCTION)
    b.end("rejected", "不予批准", lane=PRODUCTION)

    b.chain("start", f"{p}_application", "application_gw")
    if s.outcomes:   # the kind's own ends of the application phase, tested before 批准
        s.outcomes(b, "application_gw")
    # The application phase ends approved only on an approving decision (a send-back loops inside it).
    b.flow("application_gw", "issue", condition="decision == 'approve'", flow_id=f"Flow_{p}_application_approved",
           name="批准")
    b.flow("application_gw", "reject", flow_id=f"Flow_{p}_application_rejected", name="不同意")
    b.chain("reject", "rejected")
    b.chain("issue", f"{p}_prework", "prework_gw")
    b.flow("prework_gw", f"{p}_withdraw", condition="permit_status == 'expired'", flow_id=f"Flow_{p}_prework_expired",
           name="已过期：收回")
    b.flow("prework_gw", f"{p}_working", flow_id=f"Flow_{p}_prework_ready", name="开始作业")
    b.chain(f"{p}_working", "working_gw")
    b.flow("working_gw", f"{p}_withdraw", condition="permit_status == 'expired'", flow_id=f"Flow_{p}_working_expired",
           name="到期：收回")
    # Suspended by a stop-work (after the restart) or an alarm, or paused by the crew (the monitor left,
    # 4.10): the pre-work checks pass again, the monitor's presence among them.
    b.flow("working_gw", f"{p}_prework", condition="permit_status in ('suspended', 'paused')",
           flow_id=f"Flow_{p}_working_suspended", name="暂停：重新确认")
    b.flow("working_gw", f"{p}_acceptance", flow_id=f"Flow_{p}_working_done", name="完成")
    b.chain(f"{p}_withdraw", "withdrawn")
    b.chain(f"{p}_acceptance", "close", "end")
    return documented(b.to_xml(), s.documentation)


def _application(s: PermitSpec) -> ProcessBuilder:
    """申请与审批: the register entry and the application, the work-plan check, the rules, the kind's
    checks, the unit's review with the SIMOPS check and the approval chain up to the approver the
    DMN names (``final_approver``); every 退回 goes back to the register entry (LIVE_INIT), as before.
    It ends approved or not (``decision``)."""
    p = s.prefix
    sid = f"{p}_application"
    steps = CHAIN[:s.chain_length]
    b = ProcessBuilder(sid, "申请与审批")
    b.lane(WORKER).lane(PRODUCTION)
    if len(steps) > 1:
        b.lane(SUPERVISION)
    b.start(f"{sid}_start", "申请")
    kind = s.key.removesuffix("_permit")
    b.script("init", "作业票登记", f"permit_type = '{kind}'\n" + LIVE_INIT + (s.init or ""), lane=WORKER)
    b.user(f"{p}_apply", s.apply_name, lane=WORKER, form=s.apply_form, props=APPLICANT_OVERRIDES)
    # (Names of collapsed sub-processes kept to two lines: a third runs into the ⊞ marker.)
    b.sub(f"{p}_checks", f"核对计划、规则、{s.checks_name}" if s.checks_name else "核对计划与判定规则", _checks(s),
          lane=WORKER)
    b.xor("checks_gw", "核对结果", default=f"Flow_{p}_checks_ok")
    b.sub(f"{p}_unit", "作业单位审批（交叉作业）", _unit_review(s), lane=PRODUCTION)
    b.xor("unit_result_gw", "作业单位结论" + ("（按最终审批人）" if len(steps) > 1 else ""),
          default=f"Flow_{p}_unit_result_rejected")
    b.end("application_approved", "批准", lane=PRODUCTION)
    b.end("application_rejected", "不同意", lane=PRODUCTION)

    b.chain(f"{sid}_start", "init", f"{p}_apply", f"{p}_checks", "checks_gw")
    # A permit naming a work plan (work_plan_ref) is checked against the running plans and announces
    # itself to that plan, which lists it among the plan's special operations (4.6), as hot work does;
    # an unknown number goes back to the applicant before the rules (so the kind's own results, read
    # after it, are always this application's).
    b.flow("checks_gw", f"{p}_apply", condition="bool(work_plan_ref_error)" + s.back_when,
           flow_id=f"Flow_{p}_work_plan_bad",
           name=f"计划编号不存在、{s.back_reason}：退回" if s.back_reason else "计划编号不存在，退回申请人")
    if s.check_routes:
        s.check_routes(b, "checks_gw")
    b.flow("checks_gw", f"{p}_unit", flow_id=f"Flow_{p}_checks_ok")
    b.chain(f"{p}_unit", "unit_result_gw")
    first = steps[0]
    b.flow("unit_result_gw", "init", condition="decision == 'send_back'", flow_id=f"Flow_{p}_unit_result_send_back",
           name="退回")
    if len(steps) > 1:
        b.sub(f"{p}_approval_chain", "、".join(t[3].replace("审批", "").replace("专业管理部门", "专业部门")
                                                 for t in steps[1:]) + "审批", _approval_chain(s), lane=SUPERVISION)
        b.xor("chain_gw", "审批结论", default=f"Flow_{p}_chain_rejected")
        b.flow("unit_result_gw", "application_approved",
               condition=f"decision == 'approve' and final_approver == '{first[0]}'",
               flow_id=f"Flow_{p}_unit_result_final", name="同意，签发")
        b.flow("unit_result_gw", f"{p}_approval_chain",
               condition=f"decision == 'approve' and final_approver != '{first[0]}'",
               flow_id=f"Flow_{p}_unit_result_next", name="同意，报" + steps[1][3].replace("审批", ""))
        b.flow("unit_result_gw", "application_rejected", flow_id=f"Flow_{p}_unit_result_rejected", name="不同意")
        b.chain(f"{p}_approval_chain", "chain_gw")
        b.flow("chain_gw", "init", condition="decision == 'send_back'", flow_id=f"Flow_{p}_chain_send_back",
               name="退回")
        b.flow("chain_gw", "application_approved", condition="decision == 'approve'",
               flow_id=f"Flow_{p}_chain_approved", name="同意，签发")
        b.flow("chain_gw", "application_rejected", flow_id=f"Flow_{p}_chain_rejected", name="不同意")
    else:
        b.flow("unit_result_gw", "application_approved", condition="decision == 'approve'",
               flow_id=f"Flow_{p}_unit_result_ok", name="同意，签发")
        b.flow("unit_result_gw", "application_rejected", flow_id=f"Flow_{p}_unit_result_rejected", name="不同意")
    return b


def _checks(s: PermitSpec) -> ProcessBuilder:
    """After each application: the work-plan reference checked and linked (link_to_work_plan; an
    unknown number ends here with ``work_plan_ref_error``, before the rules), the kind's decision
    tables and its own checks."""
    sid = f"{s.prefix}_checks"
    b = ProcessBuilder(sid, "核对与判定")
    b.lane(WORKER)
    b.start(f"{sid}_start", "已申请")
    for rid, rname, decision in s.rules:
        b.business_rule(rid, rname, decision, lane=WORKER)
    b.end(f"{sid}_end", "已核对、已判定", lane=WORKER)
    b.end("plan_ref_bad", "计划编号不存在", lane=WORKER)
    rule_ids = [r[0] for r in s.rules]
    link_to_work_plan(b, f"{sid}_start", rule_ids[0], s.key, WORKER, back="plan_ref_bad")
    after_rules = s.checks(b, f"{sid}_end") if s.checks else f"{sid}_end"
    b.chain(*rule_ids, after_rules)
    return b


def _unit_review(s: PermitSpec) -> ProcessBuilder:
    """The unit's review with the SIMOPS check: the permits live in the area are looked up before
    the review and again at its decision; cross-work the standard forbids, or without a
    coordinator, goes round to the review again; it ends with the unit's ``decision``."""
    p = s.prefix
    sid = f"{p}_unit"
    who, suffix, lane, tname, form = CHAIN[0]
    tid = f"{p}_{suffix}"
    b = ProcessBuilder(sid, tname)
    b.lane(PRODUCTION)
    b.start(f"{sid}_start", "审批")
    b.business_rule("simops_rule", "交叉作业票类别", s.simops_decision, lane=PRODUCTION)
    b.script("simops_lookup", "查询区域内在办作业票", simops_lookup(s.key), lane=PRODUCTION)
    b.user(tid, tname, lane=PRODUCTION, form=form, props={"not_completed_by": f"{p}_apply", "priority": "70"})
    b.script("simops_check", "交叉作业冲突检查", simops_lookup(s.key) +  # again: a permit may have started meanwhile
             "simops_conflicts = active_permits_in_area\n" + SIMOPS_DECIDE, lane=PRODUCTION)
    b.xor(f"{suffix}_gw", tname + "结论", default=f"Flow_{p}_{suffix}_reject", lane=PRODUCTION)
    b.end("unit_send_back", "退回", lane=PRODUCTION)
    b.end("unit_approved", "同意", lane=PRODUCTION)
    b.end("unit_rejected", "不同意", lane=PRODUCTION)
    b.chain(f"{sid}_start", "simops_rule", "simops_lookup", tid, "simops_check", f"{suffix}_gw")
    b.flow(f"{suffix}_gw", "unit_send_back", condition="decision == 'send_back'", flow_id=f"Flow_{p}_{suffix}_send_back",
           name="退回")
    b.flow(f"{suffix}_gw", "simops_lookup", condition="decision == 'approve' and simops_blocked",
           flow_id=f"Flow_{p}_simops", name="标准禁止的交叉作业，或冲突无协调人")
    b.flow(f"{suffix}_gw", "unit_approved", condition="decision == 'approve' and not simops_blocked",
           flow_id=f"Flow_{p}_{suffix}_ok", name="同意")
    b.flow(f"{suffix}_gw", "unit_rejected", flow_id=f"Flow_{p}_{suffix}_reject", name="不同意")
    return b


def _approval_chain(s: PermitSpec) -> ProcessBuilder:
    """The approvals after the unit's, in chain order, up to the approver the DMN names
    (``final_approver``); every step is a different person. It ends with the last approver's
    ``decision`` (退回 and 不同意 are routed outside)."""
    p = s.prefix
    sid = f"{p}_approval_chain"
    steps = CHAIN[:s.chain_length]
    b = ProcessBuilder(sid, "逐级审批")
    for lane in [c[2] for c in steps[1:]]:
        b.lane(lane)
    b.start(f"{sid}_start", "审批")
    done = [f"{p}_{steps[0][1]}"]
    for i, (who, suffix, lane, tname, form) in enumerate(steps[1:], start=1):
        tid = f"{p}_{suffix}"
        b.user(tid, tname, lane=lane, form=form,
               props={"not_completed_by": ",".join([f"{p}_apply"] + done), "priority": str(70 + 10 * i)})
        b.xor(f"{suffix}_gw", tname + "结论", default=f"Flow_{p}_{suffix}_reject", lane=lane)
        done.append(tid)
    first_lane = steps[1][2]
    b.end("chain_approved", "同意", lane=first_lane)
    b.end("chain_send_back", "退回", lane=first_lane)
    b.end("chain_rejected", "不同意", lane=first_lane)
    b.flow(f"{sid}_start", done[1])
    for i, (who, suffix, lane, tname, form) in enumerate(steps[1:], start=1):
        gw = f"{suffix}_gw"
        b.flow(done[i], gw)
        b.flow(gw, "chain_send_back", condition="decision == 'send_back'", flow_id=f"Flow_{p}_{suffix}_send_back",
               name="退回")
        ok = "decision == 'approve'"
        if i + 1 < len(steps):
            b.flow(gw, "chain_approved", condition=f"{ok} and final_approver == '{who}'",
                   flow_id=f"Flow_{p}_{suffix}_final", name="同意，签发")
            b.flow(gw, done[i + 1], condition=f"{ok} and final_approver != '{who}'", flow_id=f"Flow_{p}_{suffix}_next",
                   name="同意，报" + steps[i + 1][3].replace("审批", ""))
        else:
            b.flow(gw, "chain_approved", condition=ok, flow_id=f"Flow_{p}_{suffix}_ok", name="同意，签发")
        b.flow(gw, "chain_rejected", flow_id=f"Flow_{p}_{suffix}_reject", name="不同意")
    return b


def _suspension(b: ProcessBuilder, s: PermitSpec, hosts: list[str], suffix: str) -> tuple[str, list[str]]:
    """Stop-work and the kind's alarms on the tasks ``hosts`` suspend the permit (interrupting); a stop
    also waits for the restart. Returns the stop's last node and the alarms' scripts."""
    p = s.prefix
    b.script(f"suspend_stop{suffix}", "停工指令：暂停作业", (
        "permit_status = 'suspended'\nsuspended_at = now().isoformat()\nsuspended_by = 'stop_work'"), lane=LEADER)
    b.message_catch(f"wait_restart{suffix}", "等待复工指令", "restart", lane=LEADER, props=BY_EQUIPMENT)
    for message, mname in s.alarms:
        b.script(f"suspend_{message}{suffix}", f"{mname}：暂停作业", (
            f"permit_status = 'suspended'\nsuspended_at = now().isoformat()\nsuspended_by = '{message}'"),
            lane=LEADER)
    for host in hosts:
        sfx = "" if host == f"{p}_work" else "_" + host.split("_", 1)[1]
        b.message_boundary(f"stop_work{sfx}", "停工指令", host, "stop_work", props=BY_EQUIPMENT)
        b.chain(f"stop_work{sfx}", f"suspend_stop{suffix}")
        for message, mname in s.alarms:
            b.message_boundary(f"{message}{sfx}", mname, host, message)
            b.chain(f"{message}{sfx}", f"suspend_{message}{suffix}")
    b.chain(f"suspend_stop{suffix}", f"wait_restart{suffix}")
    return f"wait_restart{suffix}", [f"suspend_{message}{suffix}" for message, _ in s.alarms]


def _prework(s: PermitSpec) -> ProcessBuilder:
    """作业前确认: [the gas analysis where the rules require it, until it passes,] the shift leader's
    site check and the start check (expired permit, stale sample, the kind's conditions). Waiting
    here the permit is live: stop-work and the kind's alarms suspend it and the checks start again."""
    p = s.prefix
    sid = f"{p}_prework"
    site = f"{p}_site_check"
    b = ProcessBuilder(sid, "作业前确认")
    b.lane(LEADER)
    b.start(f"{sid}_start", "确认")
    entry = site
    waiting = [site]
    if s.gas_analysis:
        entry = "gas_needed_gw"
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
        + PERMIT_VALID), lane=LEADER)
    b.xor("start_gw", "可以开始?", default=f"Flow_{p}_start_ok", lane=LEADER)
    b.script("expire_at_start", "作业票失效", "permit_status = 'expired'", lane=LEADER)
    b.end("prework_ready", "可以作业", lane=LEADER)
    b.end("prework_expired", "作业票已过期", lane=LEADER)
    # Every live state catches the stop and the kind's alarms: a stop lost while waiting for the
    # (re-)analysis or the site check would let the work start again.
    stopped, alarmed = _suspension(b, s, waiting, "_waiting")

    b.chain(f"{sid}_start", entry)
    if s.gas_analysis:
        b.flow("gas_needed_gw", f"{p}_gas_analysis", condition="gas_analysis_required", flow_id=f"Flow_{p}_gas",
               name="火灾爆炸危险场所")
        b.flow("gas_needed_gw", site, flow_id=f"Flow_{p}_no_gas", name="其他场所")
        b.chain(f"{p}_gas_analysis", "gas_check", "gas_gw")
        b.flow("gas_gw", f"{p}_gas_analysis", condition="not gas_pass", flow_id=f"Flow_{p}_gas_fail",
               name="不合格或时间无效")
        b.flow("gas_gw", site, flow_id=f"Flow_{p}_gas_ok", name="合格")
    b.chain(site, "start_check", "start_gw")
    b.flow("start_gw", "expire_at_start", condition="not permit_valid", flow_id=f"Flow_{p}_start_expired",
           name="已过期")
    if s.gas_analysis:
        b.flow("start_gw", f"{p}_gas_analysis", condition="permit_valid and gas_stale", flow_id=f"Flow_{p}_stale",
               name="样品超过时效")
    b.flow("start_gw", site, condition="permit_valid and bool(start_blocked_reason)" +
           (" and not gas_stale" if s.gas_analysis else ""), flow_id=f"Flow_{p}_blocked", name="条件不具备")
    b.flow("start_gw", "prework_ready", flow_id=f"Flow_{p}_start_ok", name="开始")
    b.chain("expire_at_start", "prework_expired")
    for node in [stopped] + alarmed:
        b.flow(node, entry)
    return b


def _working(s: PermitSpec) -> ProcessBuilder:
    """作业: the work under its validity timer; stop-work (then the wait for the restart) and the
    kind's alarms suspend the permit and end here for the pre-work checks; the expiry ends it. The crew
    pauses the work itself when the monitor has to leave (4.10: the permit is taken back and the work
    stops; when the monitor is back the shift leader confirms the site again) or for a shift change or
    the weather: ``action`` ``pause`` with its ``pause_reason``."""
    p = s.prefix
    sid = f"{p}_working"
    work = f"{p}_work"
    b = ProcessBuilder(sid, s.work_name)
    b.lane(WORKER).lane(LEADER)
    b.start(f"{sid}_start", "开始作业")
    b.script("work_start", "开始/恢复作业", (
        "if not work_started_at:\n    work_started_at = now().isoformat()\n"
        "permit_status = 'active'\nsuspended_by = ''"), lane=WORKER)
    b.user(work, s.work_name, lane=WORKER, form=s.work_form,
           props={"due": "parse_datetime(permit_expires_at)", "priority": "60"})
    b.timer_boundary("expired", "作业票到期", work, "date", "permit_expires_at")
    b.script("expire", "作业票失效", "permit_status = 'expired'", lane=LEADER)
    b.xor("work_gw", "作业状态", default=f"Flow_{p}_work_done", lane=WORKER)
    b.script("pause", "作业暂停登记（收回作业票）", PAUSE_RECORD, lane=WORKER)
    b.end("working_done", "作业完成", lane=WORKER)
    b.end("working_paused", "已暂停，待重新确认", lane=WORKER)
    b.end("working_suspended", "已暂停，待重新确认", lane=LEADER)
    b.end("working_expired", "作业票到期", lane=LEADER)
    stopped, alarmed = _suspension(b, s, [work], "")

    b.chain(f"{sid}_start", "work_start", work, "work_gw")
    b.flow("work_gw", "pause", condition="action == 'pause'", flow_id=f"Flow_{p}_work_pause", name="暂停")
    b.flow("work_gw", "working_done", flow_id=f"Flow_{p}_work_done", name="完成")
    b.chain("pause", "working_paused")
    b.chain("expired", "expire", "working_expired")
    for node in [stopped] + alarmed:
        b.flow(node, "working_suspended")
    return b
