"""Generate the plant process library: ``bpmn/*.bpmn``, ``bpmn/*.dmn`` and ``forms/*.json``.

Run ``.venv/bin/python bpmn/tools/build_library.py`` from the repository root and
commit the generated files. The diagrams are plain BPMN 2.0 with lanes and DI
(engine/bpmn_builder.py), so a designer may also continue in a bpmn.io-based
modeler; if you do, stop regenerating that file. Every number of
../shared/DOMAIN.md is in a DMN table below, never in a script.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

# The permit modules (permit_*.py beside this file) import their lanes and helpers from this module;
# when it runs as a script, they find it under its own name instead of loading it a second time.
sys.modules.setdefault("build_library", sys.modules[__name__])

from engine.bpmn_builder import ProcessBuilder  # noqa: E402
from library import choice, dmn, flag, form, number, people, text, when  # noqa: E402

# Lanes: Chinese name with the role code in brackets (engine/roles.py reads the code).
WORKER = "作业人员 (worker)"
LEADER = "当班班长 (team_leader)"
PRODUCTION = "生产单位 (production)"
SUPERVISION = "安全监督部门 (supervision)"
MAINTENANCE = "设备维修 (maintenance)"
EMERGENCY = "应急 (emergency)"
HEAD = "部门负责人 (department_head)"
LEADER_IN_CHARGE = "主管领导 (plant_leader)"

DUTY_TYPES = ['"hazard_rectification"', '"inspection"', '"permit_closure"', '"alert_disposal"',
              '"improvement_action"', '"other"']

FORMS: dict[str, str] = {}
DMN: dict[str, str] = {}
BPMN: dict[str, str] = {}


# =========================================================================== shared forms

FORMS["approval.json"] = form("审批意见", {
    "approved": flag("同意"),
    "comment": text("审批意见", min_length=0),
    "on_site": flag("已到作业现场审批", description="GB 30871-2022 4.11：审批人应到现场"),
}, ["approved"])

FORMS["duty_completion.json"] = form("督办事项完成情况", {
    "result": text("完成情况说明", min_length=2),
    "completed_at": when("完成时间"),
    "evidence_ref": text("佐证材料（照片/文件编号）", min_length=0),
}, ["result", "completed_at"])

FORMS["escalation_instruction.json"] = form("督办意见", {
    "instruction": text("督办要求", min_length=2),
    "new_deadline": when("要求完成时间"),
    "measures": text("已采取的督促措施", min_length=0),
}, ["instruction"])


# =========================================================================== three_level_supervision

DMN["escalation_intervals.dmn"] = dmn(
    "escalation_intervals", "三级督办时限（按事项类型）",
    [{"label": "事项类型", "expr": "duty_type", "type": "string", "values": DUTY_TYPES}],
    [("二级督办时限 T1（小时）", "t1_hours", "number"), ("三级督办时限 T2（小时）", "t2_hours", "number")],
    [(['"hazard_rectification"'], ["24", "72"], "隐患整改逾期：24 h 升级部门负责人，72 h 升级安全监督部门（企业惯例，可配置）"),
     (['"inspection"'], ["4", "24"], "巡检/检查未按时完成"),
     (['"permit_closure"'], ["2", "8"], "作业票逾期未关闭"),
     (['"alert_disposal"'], ["1", "4"], "预警处置逾期"),
     (['"improvement_action"'], ["72", "168"], "复盘改进措施逾期"),
     (["-"], ["24", "72"], "其他事项（默认）")],
    hit_policy="FIRST")


def three_level_supervision() -> str:
    b = ProcessBuilder("three_level_supervision", "三级督办")
    b.lane(PRODUCTION).lane(HEAD).lane(SUPERVISION)
    # Started directly by supervision (or called by other diagrams, which hand their data down).
    b.start("start", "事项逾期", variables=["duty_type", "duty_title", "department", "area"])
    # Called once per element of a collection (multi-instance), the item arrives as `duty`.
    b.script("receive", "接收督办事项", (
        "try:\n    duty\nexcept NameError:\n    duty = None\n"
        "if duty:\n"
        "    duty_type = duty['duty_type']\n    duty_title = duty['duty_title']\n"
        "    department = duty['department']"), lane=PRODUCTION)
    b.business_rule("intervals", "确定督办时限", "escalation_intervals", lane=PRODUCTION)
    # The responsible post is the owning department's own: a maintenance department's duty is for its
    # maintenance staff, a production department's for production (lanes are roles; candidate_role
    # names the role when the task is created).
    b.script("level1", "一级督办：提醒责任岗位", (
        "escalation_started_at = now().isoformat()\nescalation_level = 1\n"
        "duty_post = {'maintenance': 'maintenance', 'supervision': 'supervision', 'emergency': 'emergency'}"
        ".get(department_kind(department), 'production')"), lane=PRODUCTION)
    b.user("duty", "落实督办事项", lane=PRODUCTION, form="duty_completion.json",
           props={"due": "hours(t1_hours)", "priority": "70", "candidate_role": "duty_post"})
    b.timer_boundary("t1", "超过 T1", "duty", "duration", "'PT' + str(t1_hours) + 'H'", cancel=False)
    b.timer_boundary("t2", "超过 T2", "duty", "duration", "'PT' + str(t2_hours) + 'H'", cancel=False)
    b.script("level2", "二级督办登记", "escalation_level = 2", lane=HEAD)
    b.user("level2_task", "二级督办（部门负责人）", lane=HEAD, form="escalation_instruction.json",
           props={"due": "hours(t2_hours - t1_hours)", "priority": "80"})
    b.end("level2_done", "二级督办意见已下达", lane=HEAD)
    b.script("level3", "三级督办登记", "escalation_level = 3", lane=SUPERVISION)
    b.user("level3_task", "三级督办（安全监督部门）", lane=SUPERVISION, form="escalation_instruction.json",
           props={"priority": "90"})
    b.end("level3_done", "三级督办意见已下达", lane=SUPERVISION)
    b.script("close", "督办销项", (
        "escalation_closed_at = now().isoformat()\n"
        "elapsed_h = (parse_datetime(escalation_closed_at) - parse_datetime(escalation_started_at))"
        ".total_seconds() / 3600\n"
        "escalation_level = 3 if elapsed_h >= t2_hours else (2 if elapsed_h >= t1_hours else 1)\n"
        "escalated = escalation_level > 1"), lane=PRODUCTION)
    b.end("end", "督办事项完成", terminate=True, lane=PRODUCTION)
    b.chain("start", "receive", "intervals", "level1", "duty", "close", "end")
    b.chain("t1", "level2", "level2_task", "level2_done")
    b.chain("t2", "level3", "level3_task", "level3_done")
    return b.to_xml()


BPMN["three_level_supervision.bpmn"] = three_level_supervision()


# =========================================================================== stop_restart

FORMS["stop_rectification.json"] = form("停工整改", {
    "measures_taken": text("整改措施", min_length=2),
    "completed_at": when("整改完成时间"),
    "hazards_eliminated": flag("停工原因已消除"),
    "jha_redone": flag("已重新开展作业危害分析", description="GB 30871-2022 4.17：条件变化须重新进行危害分析"),
}, ["measures_taken", "completed_at", "hazards_eliminated"])

FORMS["restart_application.json"] = form("复工申请（书面）", {
    "rectification_summary": text("整改情况说明", min_length=5),
    "assessment": text("整改效果评估", min_length=2),
    "conditions_restored": flag("安全设施已恢复、具备复工条件"),
    "planned_restart_at": when("计划复工时间"),
    "applicant": text("申请人"),
}, ["rectification_summary", "assessment", "conditions_restored", "applicant"])

FORMS["restart_acceptance.json"] = form("复工现场验收", {
    "accepted": flag("同意复工"),
    "on_site": flag("已到现场验收"),
    "findings": text("验收意见", min_length=2),
}, ["accepted", "on_site", "findings"])


# Thrown stop_work/restart reach every permit of the area, or only those on the equipment.
# A receiving permit finds the payload in its variable `stop_work` (`restart`), never merged
# over its own data; the keys keep their stop_ prefix so the payload reads the same everywhere.
STOP_PAYLOAD = ("{'stop_area': area, 'stop_scope': stop_scope, 'stop_equipment_id': equipment_id, %s"
                "'correlation': {'area': area, 'equipment_id': equipment_id} if stop_scope == 'equipment' "
                "else {'area': area}}")
BY_EQUIPMENT = {"correlation": "equipment_id"}


DMN["stop_notification.dmn"] = dmn(
    "stop_notification", "停工通知范围",
    [{"label": "停工范围", "expr": "stop_scope", "type": "string", "values": ['"area"', '"equipment"']}],
    [("通知部门（编码）", "notify_departments", "string")],
    [(['"area"'], ['["safety", "maintenance", "emergency"]'], "区域停工：安全、设备、应急及属地单位"),
     (['"equipment"'], ['["safety", "maintenance"]'], "设备停工：安全、设备及属地单位")])


def stop_restart() -> str:
    b = ProcessBuilder("stop_restart", "停工复工")
    b.lane(SUPERVISION).lane(PRODUCTION)
    b.start("start", "一键停工", variables=["area", "department", "stop_scope", "equipment_id", "stop_reason"])
    b.script("register", "停工登记", (
        "if stop_scope not in ('area', 'equipment'):\n"
        "    raise ValueError('stop_scope must be area or equipment')\n"
        "stopped_at = now().isoformat()\n"
        "work_status = 'stopped'"), lane=SUPERVISION)
    b.business_rule("who", "确定通知部门", "stop_notification", lane=SUPERVISION)
    b.message_throw("send_stop", "向范围内作业许可下达停工", "stop_work", lane=SUPERVISION,
                    payload=STOP_PAYLOAD % "'stop_reason': stop_reason, ")
    b.parallel("fork", "并行")
    b.service("notify", "通知相关部门", "notify/people",
              {"recipients": "notify_departments + [department]",
               "message": "'停工通知：' + area + ' ' + stop_reason"}, lane=SUPERVISION,
              result_variable="notify_result", retries=3, backoff=5)
    b.end("notified", "已通知", lane=SUPERVISION)
    b.user("stop_rectify", "停工整改", lane=PRODUCTION, form="stop_rectification.json", props={"priority": "80"})
    b.user("restart_application", "复工申请", lane=PRODUCTION, form="restart_application.json")
    b.user("restart_acceptance", "复工现场验收", lane=SUPERVISION, form="restart_acceptance.json",
           props={"not_completed_by": "restart_application,stop_rectify", "priority": "80"})
    b.xor("accepted_gw", "验收通过?", default="Flow_not_accepted")
    b.script("register_restart", "复工登记", "restarted_at = now().isoformat()\nwork_status = 'restarted'",
             lane=SUPERVISION)
    b.message_throw("send_restart", "释放停工的作业许可", "restart", lane=SUPERVISION,
                    payload=STOP_PAYLOAD % "")
    b.end("end", "已复工", terminate=True, lane=SUPERVISION)
    b.chain("start", "register", "who", "send_stop", "fork")
    b.chain("fork", "notify", "notified")
    b.chain("fork", "stop_rectify", "restart_application", "restart_acceptance", "accepted_gw")
    b.flow("accepted_gw", "register_restart", condition="accepted == True", flow_id="Flow_accepted")
    b.flow("accepted_gw", "stop_rectify", flow_id="Flow_not_accepted", name="不同意，继续整改")
    b.chain("register_restart", "send_restart", "end")
    return b.to_xml()


BPMN["stop_restart.bpmn"] = stop_restart()


# =========================================================================== hazard_rectification

FORMS["hazard_report.json"] = form("隐患上报", {
    "location": text("隐患位置", min_length=2),
    "description": text("隐患描述", min_length=5),
    "photo_ref": text("照片编号或链接", min_length=0),
    # The hub links a hazard to equipment by this code (engine/hub/feed.py); not ``equipment_id``,
    # which the process computes for an equipment-scoped stop.
    "equipment_code": text("设备位号（如与设备有关）", min_length=0, max_length=64),
    "found_at": when("发现时间"),
    "reported_level": choice("初判等级", [("general", "一般隐患"), ("major", "重大隐患")]),
}, ["location", "description", "found_at", "reported_level"])

FORMS["hazard_classification.json"] = form("隐患分级与指派", {
    "hazard_level": choice("隐患等级", [("general", "一般隐患：能立即或由基层单位整改"),
                                       ("major", "重大隐患：需停产或较长时间整改、或企业自身难以排除")]),
    "responsible_department": text("责任部门（编码）", examples=["workshop-1", "storage", "maintenance"]),
    "rectification_deadline": when("整改期限", description="重大隐患以批准的治理方案时限为准"),
    "fixable_at_once": flag("能否立即整改"),
    "production_stop_required": flag("是否需要停产整改"),
    "basis": text("分级依据", min_length=0),
}, ["hazard_level", "responsible_department", "rectification_deadline", "fixable_at_once",
    "production_stop_required"])

FORMS["major_hazard_plan.json"] = form("重大隐患治理方案", {
    "goal": text("治理的目标和任务", min_length=2),
    "method": text("采取的方法和措施", min_length=2),
    "funds_materials": text("经费和物资的落实", min_length=2),
    "budget": number("治理经费", "万元", minimum=0),
    "organisation_people": text("负责治理的机构和人员", min_length=2),
    "plan_deadline": when("治理的时限和要求"),
    "safety_emergency_measures": text("安全措施和应急预案", min_length=2),
}, ["goal", "method", "funds_materials", "organisation_people", "plan_deadline", "safety_emergency_measures"],
    "《安全生产事故隐患排查治理暂行规定》第十五条：重大事故隐患治理方案的六项内容")

FORMS["interim_measures.json"] = form("临时管控措施", {
    "measures": text("临时措施（警戒、降负荷、监护等）", min_length=2),
    "responsible_person": text("措施责任人"),
    "effective_from": when("措施生效时间"),
}, ["measures", "responsible_person"])

FORMS["rectification.json"] = form("隐患整改", {
    "measures_taken": text("整改措施", min_length=2),
    "completed_at": when("整改完成时间"),
    "photo_after_ref": text("整改后照片编号或链接", min_length=0),
    "cost": number("整改费用", "元", minimum=0),
}, ["measures_taken", "completed_at"])

FORMS["rectification_verification.json"] = form("整改验收", {
    "accepted": flag("验收通过"),
    "effect_assessment": text("整改效果评价", min_length=2),
    "comment": text("退回原因或意见", min_length=0),
}, ["accepted", "effect_assessment"])


def hazard_rectification() -> str:
    """隐患整改: a short main path whose phases are collapsed sub-processes (a designer drills down):
    隐患上报与分级 (report, classification, assignment), 重大隐患治理方案 (the plan and its approval,
    退回 inside) and 隐患整改 (the rectification with its overdue timer and the three-level
    escalation, in the same plane as its task). The stop for a major hazard, the verification and
    its send-back stay on the main plane."""
    b = ProcessBuilder("hazard_rectification", "隐患整改")
    b.lane(WORKER).lane(SUPERVISION).lane(PRODUCTION)
    b.start("start", "发现隐患", variables=["area"])
    b.sub("hz_intake", "隐患上报与分级指派", _hazard_intake(), lane=WORKER)
    # Supervision's decision (it classified the hazard): drawn in its lane.
    b.xor("level_gw", "隐患等级?", default="Flow_general_later", lane=SUPERVISION)
    b.sub("hz_major_plan", "重大隐患治理方案", _hazard_major_plan(), lane=PRODUCTION)
    b.xor("stop_gw", "需要停产?", default="Flow_no_stop")
    b.script("prepare_stop", "准备停产", (
        "stop_scope = 'area'\nequipment_id = None\n"
        "stop_reason = '重大隐患停产整改：' + description"), lane=PRODUCTION)
    b.call("stop_restart", "停产整改与复工", "stop_restart", lane=PRODUCTION)
    b.user("interim", "落实临时管控措施", lane=PRODUCTION, form="interim_measures.json",
           props={"due": "PT8H"})
    b.sub("hz_rectify", "隐患整改（逾期督办）", _hazard_rectify(), lane=PRODUCTION)
    b.user("verify", "整改验收", lane=SUPERVISION, form="rectification_verification.json",
           props={"not_completed_by": "report", "priority": "70"})
    b.xor("verify_gw", "验收通过?", default="Flow_sent_back")
    b.script("close", "验收销号", (
        "closed_at = now().isoformat()\n"
        "closed_on_time = parse_datetime(closed_at) <= parse_datetime(deadline)\n"
        "hazard_status = 'closed'"), lane=SUPERVISION)
    b.end("end", "已销号", lane=SUPERVISION)
    b.chain("start", "hz_intake", "level_gw")
    # The conditions exclude each other; the general hazard's flows come first so that the layout
    # (depth-first from the start) draws rectification -> verification left to right and the
    # send-back as the loop.
    b.flow("level_gw", "hz_rectify", condition="hazard_level == 'general' and fixable_at_once",
           flow_id="Flow_general_now", name="一般隐患，立即整改")
    b.flow("level_gw", "interim", flow_id="Flow_general_later", name="一般隐患，限期整改")
    b.flow("level_gw", "hz_major_plan", condition="hazard_level == 'major'", flow_id="Flow_major", name="重大隐患")
    b.chain("hz_major_plan", "stop_gw")
    b.flow("stop_gw", "prepare_stop", condition="production_stop_required == True", flow_id="Flow_stop",
           name="停产整改")
    b.flow("stop_gw", "interim", flow_id="Flow_no_stop", name="不停产")
    b.chain("prepare_stop", "stop_restart", "verify")
    b.chain("interim", "hz_rectify", "verify", "verify_gw")
    b.flow("verify_gw", "close", condition="accepted == True", flow_id="Flow_accepted")
    b.flow("verify_gw", "hz_rectify", flow_id="Flow_sent_back", name="退回重新整改")
    b.chain("close", "end")
    return b.to_xml()


def _hazard_intake() -> ProcessBuilder:
    """The report, its classification and the assignment to the responsible department."""
    b = ProcessBuilder("hz_intake", "隐患上报与分级指派")
    b.lane(WORKER).lane(SUPERVISION)
    b.start("hz_intake_start", "发现")
    b.user("report", "隐患上报", lane=WORKER, form="hazard_report.json")
    b.user("classify", "隐患分级与指派", lane=SUPERVISION, form="hazard_classification.json",
           props={"due": "PT24H", "priority": "70"})
    b.script("assign", "指派责任部门", (
        "department = responsible_department\n"
        # The deadline in force: the classifier's, until an approved major-hazard plan sets its own.
        "deadline = rectification_deadline\n"
        "duty_type = 'hazard_rectification'\n"
        "duty_title = '隐患整改：' + location\n"
        "hazard_status = 'assigned'"), lane=SUPERVISION)
    b.end("hz_assigned", "已指派", lane=SUPERVISION)
    b.chain("hz_intake_start", "report", "classify", "assign", "hz_assigned")
    return b


def _hazard_major_plan() -> ProcessBuilder:
    """A major hazard: the plan (GB: six items), approved by the plant leader or sent back to it;
    the approved plan's deadline becomes the deadline in force."""
    b = ProcessBuilder("hz_major_plan", "重大隐患治理方案")
    b.lane(PRODUCTION).lane(LEADER_IN_CHARGE)
    b.start("hz_major_plan_start", "重大隐患")
    b.user("plan", "制定重大隐患治理方案", lane=PRODUCTION, form="major_hazard_plan.json")
    b.user("plan_approval", "治理方案审批", lane=LEADER_IN_CHARGE, form="approval.json",
           props={"not_completed_by": "plan", "priority": "80"})
    b.xor("plan_gw", "方案批准?", default="Flow_plan_rejected")
    b.script("plan_deadline_set", "按方案确定整改期限", "deadline = plan_deadline", lane=LEADER_IN_CHARGE)
    b.end("hz_plan_approved", "方案已批准", lane=LEADER_IN_CHARGE)
    b.chain("hz_major_plan_start", "plan", "plan_approval", "plan_gw")
    b.flow("plan_gw", "plan_deadline_set", condition="approved == True", flow_id="Flow_plan_ok")
    b.flow("plan_gw", "plan", flow_id="Flow_plan_rejected", name="退回修改")
    b.chain("plan_deadline_set", "hz_plan_approved")
    return b


def _hazard_rectify() -> ProcessBuilder:
    """The rectification by the deadline in force; overdue, the timer on the task ends it and the
    three-level supervision takes over (both end here, verification follows on the main plane)."""
    b = ProcessBuilder("hz_rectify", "隐患整改")
    b.lane(PRODUCTION)
    b.start("hz_rectify_start", "整改")
    b.user("rectify", "隐患整改", lane=PRODUCTION, form="rectification.json",
           props={"due": "parse_datetime(deadline)", "priority": "70"})
    b.timer_boundary("overdue", "整改逾期", "rectify", "date", "deadline")
    b.call("escalate", "三级督办", "three_level_supervision", lane=PRODUCTION)
    b.end("hz_rectified", "已整改", lane=PRODUCTION)
    b.end("hz_escalated", "督办完成", lane=PRODUCTION)
    b.chain("hz_rectify_start", "rectify", "hz_rectified")
    b.chain("overdue", "escalate", "hz_escalated")
    return b


BPMN["hazard_rectification.bpmn"] = hazard_rectification()


# =========================================================================== work_plan

from engine.permits import PERMIT_TYPES  # noqa: E402 - GB 30871's eight kinds: the register's list is the one list

OPERATION_KINDS = [(t.type, f"{t.name}作业") for t in PERMIT_TYPES] + [("maintenance", "检维修作业"),
                                                                       ("routine", "常规生产作业")]
AREA_CLASSES = [("fire_explosion", "甲乙类火灾爆炸危险区域"), ("major_hazard_tank_farm", "重大危险源罐区"),
                ("pipe_rack", "管廊"), ("general", "一般区域")]
SPECIAL_OPERATIONS = OPERATION_KINDS[:len(PERMIT_TYPES)]
AREAS = ['"unit-1"', '"tank-farm-3"', '"pipe-rack-a"', '"warehouse"']

FORMS["work_plan.json"] = form("作业计划", {
    "plan_no": text("计划编号（特殊作业的作业票申请时填写，据此关联）", min_length=0, max_length=200),
    "plan_period": choice("计划类型", [("daily", "日计划"), ("weekly", "周计划"), ("monthly", "月计划")]),
    "content": text("作业内容", min_length=2),
    "operation_kind": choice("主要作业类别（风险最高者）", OPERATION_KINDS),
    "area_class": choice("作业区域类别", AREA_CLASSES),
    "workers": people("作业人员"),
    "window_start": when("作业开始时间"),
    "window_end": when("作业结束时间"),
    "risk_points": {"type": "array", "title": "风险点", "minItems": 1, "items": text("风险点描述")},
    "special_operations": {"type": "array", "title": "计划中的特殊作业（没有则为空）", "uniqueItems": True,
                           "items": choice("特殊作业类别", SPECIAL_OPERATIONS)},
    "at_night": flag("夜间作业"),
    "on_holiday": flag("节假日或休息日作业"),
}, ["plan_period", "content", "operation_kind", "area_class", "workers", "window_start", "window_end",
    "risk_points", "special_operations", "at_night", "on_holiday"])

FORMS["plan_execution.json"] = form("作业计划执行", {
    "action": choice("执行结果", [("complete", "作业已完成，关闭计划"), ("change", "作业计划变更")]),
    "summary": text("情况说明", min_length=2),
}, ["action", "summary"])

FORMS["supervision_check.json"] = form("现场监督检查", {
    "checked_at": when("检查时间"),
    "findings": text("检查情况", min_length=2),
    "compliant": flag("作业符合要求"),
    "violations": text("违章情况及处理", min_length=0),
}, ["findings", "compliant"])

_GRADES = {  # risk level -> outputs (our default supervision intensity per colour, configurable here)
    4: ('"major"', '"red"', "1", "24", '"每小时现场检查；作业票、气体检测、监护人全程在岗"'),
    3: ('"significant"', '"orange"', "2", "16", '"每 2 小时检查；隔离、能量锁定、应急器材"'),
    2: ('"general"', '"yellow"', "4", "8", '"每 4 小时检查；作业人员资质、个体防护"'),
    1: ('"low"', '"blue"', "8", "4", '"每 8 小时抽查；作业环境与交叉作业"'),
}
_KIND_GROUPS = {"hot_work,confined_space": {"H": 4, "P": 3, "G": 3},
                "blinding,height,lifting,temp_power,excavation,road_closure": {"H": 3, "P": 2, "G": 2},
                "maintenance": {"H": 2, "P": 1, "G": 1},
                "routine": {"H": 1, "P": 1, "G": 1}}
_AREA_GROUPS = {"H": "fire_explosion,major_hazard_tank_farm", "P": "pipe_rack", "G": "general"}


def _in(values: str) -> str:
    items = ", ".join(f'"{v}"' for v in values.split(","))
    return f"? in ({items},)"


def _risk_rules():
    rules = []
    for kinds, by_area in _KIND_GROUPS.items():
        for area_key, base in by_area.items():
            for upgrade in (False, True):
                level = min(4, base + (1 if upgrade else 0))
                grade, colour, interval, max_checks, focus = _GRADES[level]
                note = f"基础等级 {base}" + ("，夜间/节假日升一级" if upgrade and base < 4 else "")
                rules.append(([_in(kinds), _in(_AREA_GROUPS[area_key]), "True" if upgrade else "False"],
                              [grade, colour, interval, max_checks, focus], note))
    return rules


DMN["work_risk_grading.dmn"] = dmn(
    "work_risk_grading", "作业风险分级（红橙黄蓝）与监督强度",
    [{"label": "作业类别", "expr": "operation_kind", "type": "string",
      "values": [f'"{k}"' for k, _ in OPERATION_KINDS]},
     {"label": "区域类别", "expr": "area_class", "type": "string", "values": [f'"{k}"' for k, _ in AREA_CLASSES]},
     {"label": "夜间或节假日", "expr": "time_upgrade", "type": "boolean"}],
    [("风险等级", "risk_grade", "string"), ("颜色", "risk_colour", "string"),
     ("监督检查间隔（小时）", "check_interval_hours", "number"), ("监督检查次数上限", "max_checks", "number"),
     ("监督重点", "focus_items", "string")],
    _risk_rules())

DMN["area_responsibility.dmn"] = dmn(
    "area_responsibility", "区域责任清单（监督人）",
    [{"label": "区域", "expr": "area", "type": "string", "values": AREAS}],
    [("区域监督人", "supervisor", "string"), ("属地单位", "area_owner", "string")],
    [(['"unit-1"'], ['"safety1"', '"workshop-1"'], "合成装置区"),
     (['"tank-farm-3"'], ['"safety2"', '"storage"'], "三号罐区"),
     (['"pipe-rack-a"'], ['"safety1"', '"workshop-1"'], "A 管廊"),
     (['"warehouse"'], ['"safety2"', '"maintenance"'], "备件仓库"),
     (["-"], ['""', '""'], "未列入清单的区域：由安全监督部门派人")],
    hit_policy="FIRST")


# The next supervision check still ahead. Checks, permit links and plan changes all leave and re-enter
# the execution task through interrupting events: a non-interrupting event that has fired makes
# SpiffWorkflow cancel the branches it started (open checks) when an interrupting one follows, and
# hand on older data. With no check left the timer is parked at a date that never comes.
NO_MORE_CHECKS = "'9999-12-31T00:00:00+00:00'"
NEXT_CHECK = (
    "rest = supervision_checks[checks_done:]\n"
    "next_check_at = rest[0] if rest else " + NO_MORE_CHECKS + "\n"
    "del rest\n")
# Permits that name this plan (work_plan_ref == plan_no), read from the permits themselves: the
# message only says "look again". Selected in the database (match=), so none is lost beyond the
# helper's 200-row cap however many permits run (a plan without a number reads none). Links are
# kept once made (a closed permit still covered its work).
PERMIT_LINKS = (
    "try:\n    linked_no = plan_no\nexcept NameError:\n    linked_no = ''\n"   # the planner's, optional
    "known = [l['instance_id'] for l in permit_links]\n"
    # Every special operation of GB 30871 has its permit process <kind>_permit (4.6: one per kind).
    "for key, kind in " + repr(tuple((f"{k}_permit", k) for k, _ in SPECIAL_OPERATIONS)) + ":\n"
    "    for p in (active_instances(key, None, ('work_plan_ref', 'permit_status', 'work_content', 'purpose',\n"
    "                                           'work_description'),\n"
    "                               {'work_plan_ref': linked_no}) if linked_no else []):\n"
    "        v = p['variables']\n"
    "        if linked_no and v.get('work_plan_ref') == linked_no and p['id'] not in known:\n"
    "            permit_links = permit_links + [{'instance_id': p['id'], 'process_key': key, 'operation_kind': kind,\n"
    "                                            'content': v.get('work_content') or v.get('purpose') or\n"
    "                                                       v.get('work_description'),\n"
    "                                            'linked_at': now().isoformat()}]\n"
    "            known = known + [p['id']]\n"
    "del known, key, kind, linked_no\n"
    "try:\n    del p, v\nexcept NameError:\n    pass\n")
# Which planned special operations have an applied-for permit linked to the plan, and which not.
# permits_needed: one entry per planned kind (a job combining hot work and confined space needs both,
# GB 30871-2022 4.6) with the permit process it needs and the permits linked for it so far.
PERMIT_COVERAGE = (
    "special_ops_permitted = sorted(set([l['operation_kind'] for l in permit_links]))\n"
    "special_ops_missing = [k for k in special_operations if k not in special_ops_permitted]\n"
    "permits_complete = len(special_ops_missing) == 0\n"
    "permits_needed = [{'operation_kind': k, 'process_key': k + '_permit',\n"
    "                   'linked': [l['instance_id'] for l in permit_links if l['operation_kind'] == k]}\n"
    "                  for k in special_operations]\n")


def _work_plan_schedule() -> ProcessBuilder:
    """The submitted (or changed) plan checked and graded, the area's responsibilities and the
    focus items read, and the supervision checks scheduled in its time window; entered on submission
    and again on every change. No waits: the plan's execution follows on the main plane."""
    b = ProcessBuilder("wp_schedule", "校验、分级与生成监督计划")
    b.lane(PRODUCTION).lane(SUPERVISION)
    b.start("wp_schedule_start", "计划已提交")
    b.script("prepare", "校验作业时间窗", (
        "if parse_datetime(window_end) <= parse_datetime(window_start):\n"
        "    raise ValueError('作业结束时间必须晚于开始时间')\n"
        "time_upgrade = bool(at_night or on_holiday)\n"
        "plan_revision = plan_revision + 1"), lane=PRODUCTION)
    b.business_rule("grade", "作业风险分级", "work_risk_grading", lane=PRODUCTION)
    b.business_rule("responsible", "查区域责任清单", "area_responsibility", lane=SUPERVISION)
    # Focus items the fusion analytics pushed for this area (hub_focus_items, status open).
    b.service("read_focus", "读取监督关注事项（数据中心）", "hub/read",
              {"kind": "'focus_item'", "filters": "{'area': area}", "limit": "50"}, lane=SUPERVISION,
              result_variable="hub_focus", retries=3, backoff=5)
    b.script("schedule", "生成监督计划（时间窗内）", (
        "ws = parse_datetime(window_start)\n"
        "we = parse_datetime(window_end)\n"
        "step = hours(check_interval_hours)\n"
        "supervision_checks = []\n"
        "t = ws\n"
        "while t < we and len(supervision_checks) < max_checks:\n"
        "    supervision_checks.append(t.isoformat())\n"
        "    t = t + step\n"
        "del ws, we, step, t\n"
        "hub_focus_items = [{'target_kind': r['data']['target_kind'], 'target': r['data']['target'],\n"
        "                    'reason': r['data']['reason'], 'analysis': r['data']['analysis']}\n"
        "                   for r in hub_focus['records']]\n"
        "supervision_focus = [focus_items] + [f['reason'] for f in hub_focus_items]\n"
        "del hub_focus\n"
        # Checks already in the past (a plan changed during its window) are not replayed.
        "checks_done = len([c for c in supervision_checks if parse_datetime(c) < now()])\n"
        + NEXT_CHECK + PERMIT_LINKS + PERMIT_COVERAGE), lane=SUPERVISION)
    b.end("wp_scheduled", "监督计划已生成", lane=SUPERVISION)
    b.chain("wp_schedule_start", "prepare", "grade", "responsible", "read_focus", "schedule", "wp_scheduled")
    return b


def work_plan() -> str:
    b = ProcessBuilder("work_plan", "作业计划与监督计划")
    b.lane(PRODUCTION).lane(SUPERVISION)
    b.start("start", "编制作业计划", variables=["area"])
    b.script("init", "计划登记", "plan_revision = 0\npermit_links = []", lane=PRODUCTION)
    b.user("submit_plan", "提交作业计划", lane=PRODUCTION, form="work_plan.json")
    b.sub("wp_schedule", "校验、分级与生成监督计划", _work_plan_schedule(), lane=SUPERVISION)
    b.user("execute", "作业计划执行", lane=PRODUCTION, form="plan_execution.json")
    b.timer_boundary("check_due", "监督检查时间到", "execute", "date", "next_check_at")
    b.script("check_fired", "排定下次检查", "checks_done = checks_done + 1\n" + NEXT_CHECK, lane=SUPERVISION)
    b.parallel("check_fork", "检查与执行并行")
    # A permit applied for with this plan's number as work_plan_ref announces itself (correlated by plan_no).
    b.message_boundary("permit_applied", "作业票已申请", "execute", "work_plan_permit",
                       props={"correlation": "plan_no"})
    b.script("link_permit", "关联作业票", PERMIT_LINKS + PERMIT_COVERAGE, lane=PRODUCTION)
    b.xor("window_gw", "在作业时间窗内?", default="Flow_check_outside")
    # The check gets a snapshot under its own names: a live check task must not shadow the plan's
    # current permit coverage (instance variables merge the data of every live task).
    b.script("check_brief", "检查要点（作业票办理情况）", (
        "check_permits_missing = special_ops_missing\ncheck_permit_links = permit_links\n"
        "del special_ops_missing, special_ops_permitted, permits_complete, permit_links, permits_needed\n"
        "del next_check_at, checks_done"),
        lane=SUPERVISION)
    b.user("supervision_check", "现场监督检查", lane=SUPERVISION, form="supervision_check.json",
           props={"due": "hours(check_interval_hours)", "priority": "60", "assignee": "supervisor"})
    b.end("check_done", "检查完成", lane=SUPERVISION)
    b.end("check_skipped", "时间窗外不检查", lane=SUPERVISION)
    b.xor("change_gw", "计划变更?", default="Flow_plan_done")
    b.user("change_plan", "变更作业计划", lane=PRODUCTION, form="work_plan.json")
    b.script("close", "关闭作业计划", "plan_closed_at = now().isoformat()", lane=PRODUCTION)
    b.end("end", "计划关闭", terminate=True, lane=PRODUCTION)
    b.chain("start", "init", "submit_plan", "wp_schedule", "execute", "change_gw")
    b.chain("check_due", "check_fired", "check_fork", "window_gw")
    b.chain("check_fork", "execute")
    b.flow("window_gw", "check_brief", condition="parse_datetime(window_start) <= now() < parse_datetime(window_end)",
           flow_id="Flow_check_inside", name="时间窗内")
    b.flow("window_gw", "check_skipped", flow_id="Flow_check_outside", name="时间窗外")
    b.chain("check_brief", "supervision_check", "check_done")
    b.chain("permit_applied", "link_permit", "execute")
    b.flow("change_gw", "change_plan", condition="action == 'change'", flow_id="Flow_plan_change", name="变更")
    b.flow("change_gw", "close", flow_id="Flow_plan_done", name="完成")
    b.chain("change_plan", "wp_schedule")
    b.chain("close", "end")
    return b.to_xml()


BPMN["work_plan.bpmn"] = work_plan()


# =========================================================================== hot_work_permit

AREA_CLASS_VALUES = [f'"{k}"' for k, _ in AREA_CLASSES]

DMN["area_classification.dmn"] = dmn(
    "area_classification", "区域类别（厂区主数据）",
    [{"label": "区域", "expr": "area", "type": "string", "values": AREAS}],
    [("区域类别", "area_class", "string")],
    [(['"unit-1"'], ['"fire_explosion"'], "合成装置区：甲乙类火灾爆炸危险区域"),
     (['"tank-farm-3"'], ['"major_hazard_tank_farm"'], "三号罐区：重大危险源可燃液体罐区"),
     (['"pipe-rack-a"'], ['"pipe_rack"'], "A 管廊"),
     (['"warehouse"'], ['"general"'], "备件仓库"),
     (["-"], ['"fire_explosion"'], "未登记的区域按火灾爆炸危险区域从严处理")],
    hit_policy="FIRST")

DMN["hot_work_upgrade.dmn"] = dmn(
    "hot_work_upgrade", "动火作业升级条件（GB 30871-2022 5.1.1）",
    [{"label": "夜间", "expr": "at_night", "type": "boolean"},
     {"label": "节假日或休息日", "expr": "on_holiday", "type": "boolean"},
     {"label": "室外", "expr": "outdoors", "type": "boolean"},
     {"label": "风力（级）", "expr": "wind_force", "type": "number"}],
    [("升级一级", "upgrade", "boolean"), ("升级原因", "upgrade_reason", "string")],
    [(["True", "-", "-", "-"], ["True", '"夜间作业"'], ""),
     (["-", "True", "-", "-"], ["True", '"节假日或休息日作业"'], ""),
     (["-", "-", "True", "? >= 5"], ["True", '"室外风力 5 级及以上"'], ""),
     (["-", "-", "-", "-"], ["False", '""'], "不升级")],
    hit_policy="FIRST")

_HOT_OUT = {  # grade -> name, validity h, interruption re-test min, continuous monitoring, final approver
    "special": ['"special"', '"特级"', "8", "30", "True", '"plant_leader"'],
    "first": ['"first"', '"一级"', "8", "30", "False", '"supervision"'],
    "second": ['"second"', '"二级"', "72", "60", "False", '"production"'],
}
DMN["hot_work_grade.dmn"] = dmn(
    "hot_work_grade", "动火作业分级（特级/一级/二级）",
    [{"label": "区域类别", "expr": "area_class", "type": "string", "values": AREA_CLASS_VALUES},
     {"label": "设备状态", "expr": "equipment_state", "type": "string",
      "values": ['"running"', '"running_under_pressure"', '"shutdown_purged"']},
     {"label": "在罐区防火堤内", "expr": "inside_dike", "type": "boolean"},
     {"label": "升级一级", "expr": "upgrade", "type": "boolean"}],
    [("级别", "grade", "string"), ("级别名称", "grade_name", "string"), ("有效期（小时）", "validity_hours", "number"),
     ("中断后须重新分析（分钟）", "interruption_minutes", "number"),
     ("连续监测", "continuous_monitoring", "boolean"), ("最终审批角色", "final_approver", "string")],
    [(['"fire_explosion"', '? in ("running", "running_under_pressure")', "-", "-"], _HOT_OUT["special"],
      "火灾爆炸危险区域内运行设备（含带压不置换）"),
     (['"major_hazard_tank_farm"', "-", "True", "-"], _HOT_OUT["special"], "重大危险源罐区防火堤内"),
     (['? in ("fire_explosion", "major_hazard_tank_farm", "pipe_rack")', "-", "-", "True"], _HOT_OUT["special"],
      "一级动火升级"),
     (['? in ("fire_explosion", "major_hazard_tank_farm", "pipe_rack")', "-", "-", "False"], _HOT_OUT["first"],
      "火灾爆炸危险区域内其他动火；管廊"),
     (['"general"', "-", "-", "True"], _HOT_OUT["first"], "二级动火升级"),
     (['"general"', "-", "-", "False"], _HOT_OUT["second"], "其他动火")],
    hit_policy="FIRST")

DMN["gas_pass_threshold.dmn"] = dmn(
    "gas_pass_threshold", "动火分析合格标准（GB 30871-2022 5.3）",
    [{"label": "可燃介质爆炸下限 LEL（%）", "expr": "gas_lel_pct", "type": "number"}],
    [("可燃气体合格上限（体积分数 %）", "max_combustible_pct", "number"),
     ("分析样品有效时间（分钟）", "sample_max_age_minutes", "number"),
     ("采样时间允许超前的时钟误差（分钟）", "sample_clock_tolerance_minutes", "number")],
    [(["? >= 4"], ["0.5", "30", "2"], "爆炸下限 ≥ 4 %：≤ 0.5 %；采样时间晚于当前时间 2 min 以上的样品不予采信"),
     (["? < 4"], ["0.2", "30", "2"], "爆炸下限 < 4 %：≤ 0.2 %；采样时间晚于当前时间 2 min 以上的样品不予采信")])

# GB 30871 4.16: a permit is valid until the end its issue set (``permit_expires_at``, empty before the issue);
# every check before (re)starting the work reads the same rule.
PERMIT_VALID = "permit_valid = not permit_expires_at or now() < parse_datetime(permit_expires_at)"

# A sample dated in the future would count as fresh for longer than the standard allows (GB 30871 5.3,
# 6.5: sampled within 30 min *before* the start). Clocks of analysers and phones drift, so a sample
# up to sample_clock_tolerance_minutes ahead is accepted; beyond it the analysis goes back to the
# analyst with the reason in gas_analysis_error (read-only in the form) and is not recorded.
SAMPLE_TIME_CHECK = (
    "sample_ahead_minutes = (parse_datetime(sampled_at) - now()).total_seconds() / 60\n"
    "if sample_ahead_minutes > sample_clock_tolerance_minutes:\n"
    "    gas_analysis_error = ('采样时间 ' + sampled_at + ' 晚于当前时间 ' + str(round(sample_ahead_minutes)) +\n"
    "                          ' 分钟（允许时钟误差 ' + str(sample_clock_tolerance_minutes) + ' 分钟）：'\n"
    "                          '样品不予采信，请按实际采样时间重新填写')\n"
    "else:\n"
    "    gas_analysis_error = ''\n")


def when_sample_time_ok(script: str) -> str:
    """``script`` run only for a sample whose time is not in the future (SAMPLE_TIME_CHECK first);
    a refused sample does not pass and is not recorded."""
    body = "".join("    " + line + "\n" for line in script.rstrip("\n").split("\n"))
    return SAMPLE_TIME_CHECK + "gas_pass = False\nif not gas_analysis_error:\n" + body

SIMOPS_KINDS = [("gas_venting", "可燃气体排放"), ("flammable_draining", "可燃液体排放"),
                ("solvent_cleaning", "溶剂清洗"), ("painting", "喷漆"), ("dust_sweeping", "扫尘"),
                ("blinding", "盲板抽堵（火灾爆炸危险区域）")]
DMN["simops_distances.dmn"] = dmn(
    "simops_distances", "动火交叉作业最小距离（GB 30871-2022 5.2.9、7.6）",
    [{"label": "动火作业", "expr": "grade", "type": "string", "values": ['"special"', '"first"', '"second"']}],
    [("冲突作业", "simops_kinds", "string"), ("最小距离（米）", "simops_min_m", "number"),
     ("距离内禁止（协调人不能放行）", "simops_forbidden", "boolean"), ("依据", "simops_clauses", "string")],
    [(["-"], ['"gas_venting"', "30", "True", '"GB 30871-2022 5.2.9"'], "5.2.9：动火期间 30 m 内不应排放可燃气体"),
     (["-"], ['"flammable_draining"', "15", "True", '"GB 30871-2022 5.2.9"'], "5.2.9：15 m 内不应排放可燃液体"),
     (["-"], ['"solvent_cleaning"', "10", "True", '"GB 30871-2022 5.2.9"'], "5.2.9：10 m 内不应进行可燃性粉尘清扫、溶剂清洗"),
     (["-"], ['"painting"', "10", "True", '"GB 30871-2022 5.2.9"'], "5.2.9：10 m 内不应喷漆"),
     (["-"], ['"dust_sweeping"', "10", "True", '"GB 30871-2022 5.2.9"'], "5.2.9：10 m 内不应扫尘"),
     (["-"], ['"blinding"', "30", "True", '"GB 30871-2022 7.6"'], "7.6：火灾爆炸危险场所盲板抽堵作业 30 m 内不应动火")],
    hit_policy="COLLECT")

# Cross-work between permits (issue 14 §2): every ordered pair of the eight special operations of
# GB 30871-2022 in one area is cross-work that needs a named coordinator (4.7); the pairs below are
# forbidden outright, whatever a coordinator says (engine/simops.py applies the condition):
#   7.6  no hot work within 30 m of blinding in a fire/explosion area (both ways; "distance");
#   7.10 no two blinding operations on one pipeline at the same time ("same_pipeline");
#   6.7  no painting inside a confined space while hot work goes on on that equipment (both ways).
# One matrix, written three times: hot work's and confined space's own tables (their diagrams evaluate
# them before the review) and simops_matrix.dmn with an input permit_type for every kind (the new
# permits' reviews and the register read it). Run by the register both ways, so the check does not
# depend on which permit came first.
PERMIT_KINDS = [(t.type, t.name) for t in PERMIT_TYPES]
FIRE_EXPLOSION_CLASSES = "fire_explosion,major_hazard_tank_farm"
SIMOPS_FORBIDDEN = {
    ("hot_work", "blinding"): ("distance", "30", FIRE_EXPLOSION_CLASSES, "GB 30871-2022 7.6",
                               "火灾爆炸危险场所盲板抽堵作业 30 m 内不应动火（7.6）"),
    ("blinding", "hot_work"): ("distance", "30", FIRE_EXPLOSION_CLASSES, "GB 30871-2022 7.6",
                               "火灾爆炸危险场所盲板抽堵作业 30 m 内不应动火（7.6）"),
    ("blinding", "blinding"): ("same_pipeline", "0", "", "GB 30871-2022 7.10",
                               "同一管道上不应同时进行两处及以上盲板抽堵作业（7.10）"),
    ("hot_work", "confined_space"): ("same_equipment_painting", "0", "", "GB 30871-2022 6.7",
                                     "同一区域受限空间作业：空间内涂装时同一设备不得动火（6.7），交叉作业须指定协调人（4.7）"),
    ("confined_space", "hot_work"): ("same_equipment_painting", "0", "", "GB 30871-2022 6.7",
                                     "同一区域动火作业：受限空间内动火时不得涂装（6.7），交叉作业须指定协调人（4.7）"),
}
SIMOPS_OUTPUTS = [("冲突的作业票流程", "simops_permit_processes", "string"), ("冲突原因", "simops_permit_reasons", "string"),
                  ("标准禁止的条件（空 = 须协调人）", "simops_permit_forbidden_when", "string"),
                  ("禁止距离（米）", "simops_permit_min_m", "number"),
                  ("适用区域类别（空 = 任何区域）", "simops_permit_area_classes", "string"),
                  ("依据", "simops_permit_clauses", "string")]


# SpiffWorkflow merges a COLLECT table's output lists into lists already in the data (DeepMerge), and
# that merge drops repeated values ([False] * 8 becomes [False]): a review that runs the table again
# (after a send-back) deletes its outputs first, so the table sets them whole.
SIMOPS_CLEAR = ("try:\n    del " + ", ".join(var for _, var, _ in SIMOPS_OUTPUTS) + "\nexcept NameError:\n    pass\n")


def simops_row(kind: str, other: str) -> list[str]:
    when, min_m, classes, clause, reason = SIMOPS_FORBIDDEN.get((kind, other), (
        "", "0", "", "GB 30871-2022 4.7", f"同一区域{dict(PERMIT_KINDS)[other]}作业：交叉作业须指定协调人（4.7）"))
    return [f'"{other}_permit"', f'"{reason}"', f'"{when}"', min_m, f'"{classes}"', f'"{clause}"']


def simops_rows(kind: str, inputs: list[str]) -> list:
    return [(inputs, simops_row(kind, other), SIMOPS_FORBIDDEN.get((kind, other), ("",) * 4 + ("4.7",))[4])
            for other, _ in PERMIT_KINDS]


# The hot-work side (its diagram evaluates it with the grade; every grade the same rows).
DMN["simops_permits.dmn"] = dmn(
    "simops_permits", "动火交叉作业：同一区域在办作业票（GB 30871-2022 4.7、6.7、7.6）",
    [{"label": "动火作业", "expr": "grade", "type": "string", "values": ['"special"', '"first"', '"second"']}],
    SIMOPS_OUTPUTS, simops_rows("hot_work", ["-"]), hit_policy="COLLECT")

# The confined-space side (painting inside is a fact engine/simops.py reads, so the rows are the same).
DMN["simops_confined_space.dmn"] = dmn(
    "simops_confined_space", "受限空间交叉作业：同一区域在办作业票（GB 30871-2022 4.7、6.7）",
    [{"label": "空间内涂装", "expr": "painting_planned", "type": "boolean"}],
    SIMOPS_OUTPUTS, simops_rows("confined_space", ["-"]), hit_policy="COLLECT")

# Every kind: the table the other permits' reviews evaluate with their permit_type.
DMN["simops_matrix.dmn"] = dmn(
    "simops_matrix", "特殊作业交叉作业矩阵：同一区域在办作业票（GB 30871-2022 4.7、6.7、7.6、7.10）",
    [{"label": "本作业票类别", "expr": "permit_type", "type": "string", "values": [f'"{k}"' for k, _ in PERMIT_KINDS]}],
    SIMOPS_OUTPUTS, [row for kind, _ in PERMIT_KINDS for row in simops_rows(kind, [f'"{kind}"'])],
    hit_policy="COLLECT")

# Gas analysis is valid for the plant day it was sampled on ("every day before work", GB 30871 5.3);
# the plant day is local time (UTC offset) starting at workday_start_hour. Configurable per grade.
DMN["hot_work_daily_analysis.dmn"] = dmn(
    "hot_work_daily_analysis", "动火分析每日有效（每日动火前须重新分析）",
    [{"label": "动火作业", "expr": "grade", "type": "string", "values": ['"special"', '"first"', '"second"']}],
    [("每日动火前重新分析", "daily_reanalysis", "boolean"), ("厂区时区（UTC 偏移小时）", "plant_utc_offset_hours", "number"),
     ("作业日开始（当地整点）", "workday_start_hour", "number")],
    [(['"special"'], ["True", "8", "0"], "特级：8 h 有效，跨日时同样须重新分析"),
     (['"first"'], ["True", "8", "0"], "一级：8 h 有效，跨日时同样须重新分析"),
     (['"second"'], ["True", "8", "0"], "二级：72 h 有效，每日动火前重新分析")])

# Scripts shared by the reviews and the approval checks: the cross-work of this permit with the live
# permits of its area, from the register both ways (script helper permit_conflicts, engine/simops.py),
# by the rows of the SIMOPS table the diagram evaluated. Each conflict says whether the standard
# forbids it (same equipment with painting, same pipeline, hot work within 30 m of blinding) or a
# coordinator may clear it. Facts read when the permit has them (equipment, painting, pipeline, the
# distances its review recorded to other permits).
def simops_lookup(process_key: str) -> str:
    """The SIMOPS lookup script of a permit review (``process_key``: the permit's own process)."""
    return (
        "simops_facts = {'equipment_id': '', 'painting_planned': False, 'pipeline': '', 'nearby': []}\n"
        "try:\n    simops_facts['equipment_id'] = equipment_id or ''\nexcept NameError:\n    pass\n"
        "try:\n    simops_facts['painting_planned'] = bool(painting_planned)\nexcept NameError:\n    pass\n"
        "try:\n    simops_facts['pipeline'] = pipeline or ''\nexcept NameError:\n    pass\n"
        "try:\n    simops_facts['nearby'] = [{'permit_ref': op.get('permit_ref') or '', 'distance_m': op['distance_m']}\n"
        "                              for op in nearby_operations if op.get('permit_ref')]\n"
        "except NameError:\n    pass\n"
        "simops_own_rules = [{'other': simops_permit_processes[i], 'reason': simops_permit_reasons[i],\n"
        "                     'forbidden_when': simops_permit_forbidden_when[i], 'min_m': simops_permit_min_m[i],\n"
        "                     'area_classes': simops_permit_area_classes[i], 'clause': simops_permit_clauses[i]}\n"
        "                    for i in range(len(simops_permit_processes))]\n"
        f"active_permits_in_area = permit_conflicts('{process_key}', area, simops_facts, simops_own_rules)\n"
        "del simops_facts, simops_own_rules\n")


SIMOPS_LOOKUP = simops_lookup("hot_work_permit")
CS_SIMOPS_LOOKUP = simops_lookup("confined_space_permit")
# After the review: what is forbidden blocks the approval whatever the coordinator (the reason is
# shown read-only in the review form as simops_refusal); other cross-work needs a coordinator (4.7).
SIMOPS_DECIDE = (
    "try:\n    coordinated = bool(coordinator)\nexcept NameError:\n    coordinated = False\n"
    "simops_refusal = '；'.join([c['reason'] + ('（禁止：' + c['kind'] + ' ' + str(c['distance_m']) + ' m）'\n"
    "                                          if c['kind'] != 'active_permit' else\n"
    "                                          '（禁止：' + str(c.get('refusal') or '') + '，作业票 ' +\n"
    "                                          str(c['business_key'] or c['instance_id']) + '）')\n"
    "                             for c in simops_conflicts if c.get('forbidden')])\n"
    "simops_blocked = bool(simops_refusal) or (len(simops_conflicts) > 0 and not coordinated)\n"
    "del coordinated\n")
# The end of the plant day in which the (last) analysis was sampled, as UTC text.
ANALYSIS_VALID_UNTIL = (
    "plant_local = parse_datetime(sampled_at) + hours(plant_utc_offset_hours) - hours(workday_start_hour)\n"
    "plant_day = datetime(plant_local.year, plant_local.month, plant_local.day, tzinfo=timezone.utc)\n"
    "analysis_valid_until = (plant_day + days(1) - hours(plant_utc_offset_hours)"
    " + hours(workday_start_hour)).isoformat()\n"
    "del plant_local, plant_day\n")


# The applicant's entry overrules the checked reference the process keeps (it clears a wrong number):
# declared on the application task, for the applicant's role, and audited with old and new value.
APPLICANT_OVERRIDES = {"overrides": "work_plan_ref", "override_roles": "worker"}

# A permit may name a work plan (work_plan_ref); a number that matches no running work_plan is a
# typing error and would link nothing (or, later, the wrong plan), so the application goes back to
# the applicant with the reason and the wrong number is not kept as the permit's reference.
# A permit without a plan is allowed (unplanned or emergency work still needs its permit).
PLAN_REF_CHECK = (
    "work_plan_ref = (work_plan_ref or '').strip()\n"
    "work_plan_ref_error = ''\n"
    "if work_plan_ref and not work_plan_linked:\n"
    # Looked up by number in the database (match=), in all areas: scanning the list would miss a
    # plan beyond the helper's 200-row cap.
    "    plans = active_instances('work_plan', None, ('plan_no',), {'plan_no': work_plan_ref})\n"
    "    if not plans:\n"
    "        work_plan_ref_error = ('作业计划编号“' + work_plan_ref + '”不存在（没有在办的该编号作业计划），'\n"
    "                               '请核对编号；计划外作业请不填')\n"
    "        work_plan_ref_rejected = work_plan_ref\n"
    "        work_plan_ref = ''\n"
    "    del plans\n")


def link_to_work_plan(b, after: str, before: str, process_key: str, lane: str, back: str | None = None):
    """After the application: a permit naming a work plan (``work_plan_ref`` = the plan's ``plan_no``)
    is checked against the running plans (an unknown number goes back to the applicant with
    ``work_plan_ref_error``), then tells that plan once; the plan reads its permits
    (``active_instances``) and records the links.
    (The plan reads rather than taking a payload: after a non-interrupting check has fired on the
    execution task, SpiffWorkflow hands the boundary join's older data on, not the message's.)
    ``back`` is where an unknown number goes (default: ``after``, the application; a sub-process
    holding the check ends there instead)."""
    b.script("plan_ref_check", "核对作业计划编号", PLAN_REF_CHECK, lane=lane)
    b.xor("plan_ref_gw", "计划编号有效?", default=f"Flow_{process_key}_plan_ref_ok")
    b.xor("plan_link_gw", "关联作业计划?", default=f"Flow_{process_key}_no_plan_link")
    b.script("plan_link", "登记作业计划关联", "work_plan_linked = True\nwork_plan_linked_at = now().isoformat()",
             lane=lane)
    b.message_throw("notify_plan", "通知作业计划", "work_plan_permit", lane=lane,
                    payload="{'correlation': {'plan_no': work_plan_ref}}")
    b.chain(after, "plan_ref_check", "plan_ref_gw")
    b.flow("plan_ref_gw", back or after, condition="bool(work_plan_ref_error)", flow_id=f"Flow_{process_key}_plan_ref_bad",
           name="计划编号不存在，退回申请人")
    b.flow("plan_ref_gw", "plan_link_gw", flow_id=f"Flow_{process_key}_plan_ref_ok")
    b.flow("plan_link_gw", "plan_link", condition="bool(work_plan_ref) and not work_plan_linked",
           flow_id=f"Flow_{process_key}_plan_link", name="计划内特殊作业")
    b.flow("plan_link_gw", before, flow_id=f"Flow_{process_key}_no_plan_link")
    b.chain("plan_link", "notify_plan", before)


DECISION = choice("审批结论", [("approve", "同意"), ("send_back", "退回修改"), ("reject", "不同意（作废）")])
ON_SITE_RULE = {"if": {"properties": {"decision": {"const": "approve"}}},
                "then": {"properties": {"on_site": {"const": True}},
                         "required": ["on_site"]}}


def review_form(title, extra=None, required=None):
    props = {"decision": DECISION, "comment": text("审批意见", min_length=0),
             "on_site": flag("已到作业现场", description="GB 30871-2022 4.11：审批人应到现场检查确认"),
             **(extra or {})}
    schema = form(title, props, ["decision"] + (required or []))
    import json
    data = json.loads(schema)
    data["allOf"] = [ON_SITE_RULE]
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


FORMS["permit_review.json"] = review_form("作业票审批")
SIMOPS_REFUSAL_FIELD = text("标准禁止的交叉作业（不能由协调人放行）", min_length=0, readOnly=True,
                            description="GB 30871-2022 5.2.9、6.7、7.6：须停止或移开冲突作业，或退回、不同意")
FORMS["hot_work_unit_review.json"] = review_form("作业单位审核（含交叉作业检查）", {
    "nearby_operations": {"type": "array", "title": "周边同时进行的作业", "items": {
        "type": "object", "title": "交叉作业", "required": ["kind", "distance_m"], "additionalProperties": False,
        "properties": {
            "kind": choice("作业类别", SIMOPS_KINDS),
            "distance_m": number("与动火点距离", "米", minimum=0),
            "permit_ref": text("作业票编号", min_length=0)}}},
    "coordinator": text("交叉作业协调人", min_length=0,
                        description="GB 30871-2022 4.7：交叉作业应指定专人统一协调"),
    "simops_refusal": SIMOPS_REFUSAL_FIELD,
})
FORMS["confined_space_review.json"] = review_form("作业单位审批（含交叉作业检查）", {
    "coordinator": text("交叉作业协调人", min_length=0,
                        description="GB 30871-2022 4.7：交叉作业应指定专人统一协调"),
    "simops_refusal": SIMOPS_REFUSAL_FIELD,
})

FORMS["hot_work_application.json"] = form("动火安全作业票申请", {
    "work_content": text("动火作业内容", min_length=2),
    "location_detail": text("动火部位", min_length=2),
    "equipment_id": text("设备位号（按设备停工时据此通知）", min_length=0),
    "work_plan_ref": text("作业计划编号（计划中的特殊作业据此关联）", min_length=0, max_length=200),
    "work_plan_ref_error": text("作业计划编号核对结果", min_length=0, readOnly=True),
    "hot_work_method": choice("动火方式", [("welding", "电焊/气焊"), ("cutting", "切割"), ("grinding", "打磨"),
                                          ("other", "其他")]),
    "equipment_state": choice("设备状态", [("running", "运行中"), ("running_under_pressure", "带压不置换"),
                                          ("shutdown_purged", "已停车、隔离、置换")]),
    "inside_dike": flag("在可燃液体罐区防火堤内"),
    "planned_start": when("计划开始时间"),
    "planned_end": when("计划结束时间"),
    "workers": people("动火人（持证）"),
    "monitor": text("监护人"),
    "monitor_badge": text("监护人证号"),
    "at_night": flag("夜间作业"),
    "on_holiday": flag("节假日或休息日作业"),
    "outdoors": flag("室外作业"),
    "wind_force": number("风力", "级（蒲福风级）", minimum=0, maximum=17, integer=True),
    "gas_name": text("可燃介质名称"),
    "gas_lel_pct": number("可燃介质爆炸下限 LEL", "%（体积分数）", minimum=0, maximum=100),
    "hazards": {"type": "array", "title": "作业危害分析：危害因素", "minItems": 1, "items": text("危害因素")},
    "control_measures": {"type": "array", "title": "安全措施", "minItems": 1, "items": text("措施")},
    "isolation_done": flag("已隔离、吹扫、置换、清洗（4.2）"),
    "briefing_done": flag("已进行安全交底（4.4）"),
}, ["work_content", "location_detail", "hot_work_method", "equipment_state", "inside_dike", "planned_start",
    "workers", "monitor", "at_night", "on_holiday", "outdoors", "wind_force", "gas_name", "gas_lel_pct",
    "hazards", "control_measures", "isolation_done", "briefing_done"])

FORMS["gas_analysis.json"] = form("气体分析", {
    "sampled_at": when("采样时间"),
    "sample_points": {"type": "array", "title": "采样点", "minItems": 1,
                      "items": choice("部位", [("top", "上部"), ("middle", "中部"), ("bottom", "下部"),
                                               ("hot_point", "动火点 10 m 内")])},
    "combustible_pct": number("可燃气体浓度", "%（体积分数）", minimum=0, maximum=100),
    "oxygen_pct": number("氧含量", "%（体积分数）", minimum=0, maximum=100),
    "toxic_within_limits": flag("有毒有害气体不超过职业接触限值"),
    "analyst": text("分析人"),
    "instrument_id": text("仪器编号", min_length=0),
    "gas_analysis_error": text("采样时间核对结果", min_length=0, readOnly=True,
                               description="超前于当前时间（超过时钟误差）的采样时间不予采信"),
}, ["sampled_at", "sample_points", "combustible_pct", "analyst"])

FORMS["hot_work_site_check.json"] = form("作业现场确认（当班班长）", {
    "permit_checked": {"type": "boolean", "const": True, "title": "作业票有效、内容与现场一致"},
    "monitor_present": {"type": "boolean", "const": True, "title": "监护人在岗（4.10）"},
    "measures_in_place": {"type": "boolean", "const": True, "title": "安全措施已落实"},
    "gas_monitor_online": flag("已设置连续气体监测（特级动火必需）"),
    "fire_equipment": text("现场消防器材", min_length=2),
}, ["permit_checked", "monitor_present", "measures_in_place", "gas_monitor_online", "fire_equipment"])

FORMS["hot_work_progress.json"] = form("动火作业进展", {
    "action": choice("作业状态", [("complete", "作业完成"), ("pause", "作业中断")]),
    "note": text("说明", min_length=0),
}, ["action"])

FORMS["resume_request.json"] = form("恢复作业申请", {
    "note": text("中断原因及现场情况", min_length=2),
    "monitor_present": {"type": "boolean", "const": True, "title": "监护人在岗"},
}, ["note", "monitor_present"])

FORMS["permit_withdrawal.json"] = form("收回作业票", {
    "site_safe": {"type": "boolean", "const": True, "title": "现场已停止作业并处于安全状态"},
    "note": text("说明（需重新办票时注明）", min_length=0),
}, ["site_safe"])

FORMS["hot_work_acceptance.json"] = form("动火完工验收", {
    "no_embers": {"type": "boolean", "const": True, "title": "现场无余火（5.2.14）"},
    "site_cleared": {"type": "boolean", "const": True, "title": "工完料净场地清"},
    "facilities_restored": {"type": "boolean", "const": True, "title": "安全设施已恢复（4.14）"},
    "accepted_at": when("验收时间"),
    "comment": text("验收意见", min_length=0),
}, ["no_embers", "site_cleared", "facilities_restored"])


# Where a hot-work permit waits outside the work task while still live (suffix, task): the resume
# request after an interruption, the gas (re-)analysis, the site check and the resume approval.
HW_WAITING_STATES = [("paused", "hw_resume_request"), ("analysis", "hw_gas_analysis"),
                     ("site", "hw_site_check"), ("approval", "hw_resume_approval")]


def hot_work_permit() -> str:
    """动火: drawn as a short main path whose phases are collapsed sub-processes (a designer drills
    down): 申请与审批 (application, work-plan check, rules, unit review, approval chain and every
    退回 loop), 动火分析与作业前确认 (gas analysis and its re-tests, site check, resume approval)
    and 动火作业 (work, interruptions, daily re-analysis, gas alarm and stop-work). Each sub-process
    ends where the flow used to leave it and a gateway outside routes on the same data; every task
    keeps its boundary events and their paths in its own plane (a boundary event on a sub-process
    would carry the data of the sub-process's start, not the task's). So the tasks, their data and
    the paths through them are those of the unsplit diagram."""
    b = ProcessBuilder("hot_work_permit", "动火安全作业票")
    # Supervision and the plant leader work inside the sub-processes only: their lanes are there.
    b.lane(WORKER).lane(PRODUCTION).lane(LEADER)
    b.start("start", "申请动火", variables=["area"])
    b.sub("hw_application", "动火申请与审批（含退回）", _hot_work_application(), lane=WORKER)
    b.xor("application_gw", "批准?", default="Flow_application_rejected")
    # Validity counts from the issue (GB 30871 4.16: an expired permit needs a new one), not from the
    # start of work: a permit issued on Monday is not usable on Friday.
    b.script("issue", "签发作业票", "permit_status = 'issued'\nissued_at = now().isoformat()\n"
             "permit_expires_at = (now() + hours(validity_hours)).isoformat()", lane=LEADER)
    b.sub("hw_prework", "动火分析与作业前确认", _hot_work_prework(), lane=LEADER)
    b.xor("prework_gw", "可以作业?", default="Flow_prework_ready")
    b.sub("hw_working", "动火作业（中断、停工）", _hot_work_working(), lane=WORKER)
    b.xor("working_gw", "作业结果", default="Flow_working_done")
    b.user("hw_withdraw", "收回作业票", lane=LEADER, form="permit_withdrawal.json", props={"priority": "90"})
    b.end("withdrawn", "作业票收回（需重新办理）", lane=LEADER)
    b.user("hw_acceptance", "完工验收", lane=PRODUCTION, form="hot_work_acceptance.json",
           props={"not_completed_by": "hw_apply", "priority": "70"})
    b.script("close", "关闭作业票", "permit_status = 'closed'\nclosed_at = now().isoformat()", lane=PRODUCTION)
    b.end("end", "作业票关闭", lane=PRODUCTION)
    b.script("reject", "作业票作废", "permit_status = 'rejected'", lane=PRODUCTION)
    b.end("rejected", "不予批准", lane=PRODUCTION)

    b.chain("start", "hw_application", "application_gw")
    # The application phase ends approved only on an approving decision (a send-back loops inside it).
    b.flow("application_gw", "issue", condition="decision == 'approve'", flow_id="Flow_application_approved",
           name="批准")
    b.flow("application_gw", "reject", flow_id="Flow_application_rejected", name="不同意")
    b.chain("reject", "rejected")
    b.chain("issue", "hw_prework", "prework_gw")
    b.flow("prework_gw", "hw_withdraw", condition="permit_status in ('expired', 'cancelled')",
           flow_id="Flow_prework_withdraw", name="过期或终止：收回")
    b.flow("prework_gw", "hw_working", flow_id="Flow_prework_ready", name="开始作业")
    b.chain("hw_working", "working_gw")
    b.flow("working_gw", "hw_withdraw", condition="permit_status == 'expired'", flow_id="Flow_working_expired",
           name="到期：收回")
    # Paused for a new analysis (long break, new plant day) or suspended (gas alarm, stop-work):
    # back to the analysis, and for a suspension to supervision's resume approval.
    b.flow("working_gw", "hw_prework", condition="permit_status in ('paused', 'suspended')",
           flow_id="Flow_working_reanalysis", name="重新分析（中断超时、新作业日、报警、停工）")
    b.flow("working_gw", "hw_acceptance", flow_id="Flow_working_done", name="完成")
    b.chain("hw_withdraw", "withdrawn")
    b.chain("hw_acceptance", "close", "end")
    return b.to_xml()


def _hot_work_application() -> ProcessBuilder:
    """申请与审批: the application and every 退回 back to it (an unknown work-plan number, the
    unit's review, the approval chain), then the approval by grade: 二级 by the unit, 特级/一级
    through supervision's review and approval."""
    b = ProcessBuilder("hw_application", "动火申请与审批")
    b.lane(WORKER).lane(PRODUCTION).lane(SUPERVISION)
    b.start("hw_application_start", "申请")
    # The permit's register entry, once: the 退回 loops below go back to the application, not here.
    b.script("init", "作业票登记", "permit_status = 'applying'\npermit_expires_at = ''\n"
                                 "analysis_purpose = 'start'\nsimops_conflicts = []\n"
                                 "gas_results = []\nactive_permits_in_area = []\n"
                                 "analysis_valid_until = ''\ndaily_retest_at = ''\nwork_plan_ref = ''\nwork_plan_linked = False\n"
                                 "work_started_at = ''\ngas_analysis_error = ''\nsimops_refusal = ''",
                                 lane=WORKER)
    b.user("hw_apply", "动火作业申请（含危害分析）", lane=WORKER, form="hot_work_application.json",
           props=APPLICANT_OVERRIDES)
    b.sub("hw_plan_check", "核对并关联作业计划", _hot_work_plan_check(), lane=WORKER)
    b.xor("plan_gw", "计划编号有效?", default="Flow_plan_ok")
    b.sub("hw_rules", "分级与判定规则", _hot_work_rules(), lane=WORKER)
    b.sub("hw_unit", "作业单位审核（交叉作业）", _hot_work_unit_review(), lane=PRODUCTION)
    # The unit's review ends with its decision (a blocked cross-work goes round inside it); the
    # grade then says who approves: 二级 the unit itself, 特级/一级 the approval chain.
    b.xor("unit_result_gw", "作业单位结论（按级别）", default="Flow_unit_result_rejected")
    b.sub("hw_approval_chain", "安全审核与审批", _hot_work_approval_chain(), lane=SUPERVISION)
    b.xor("chain_gw", "审批结论", default="Flow_chain_rejected")
    b.end("application_approved", "批准", lane=PRODUCTION)
    b.end("application_rejected", "不同意", lane=PRODUCTION)

    b.chain("hw_application_start", "init", "hw_apply", "hw_plan_check", "plan_gw")
    b.flow("plan_gw", "hw_apply", condition="bool(work_plan_ref_error)", flow_id="Flow_plan_bad",
           name="计划编号不存在，退回申请人")
    b.flow("plan_gw", "hw_rules", flow_id="Flow_plan_ok")
    b.chain("hw_rules", "hw_unit", "unit_result_gw")
    b.flow("unit_result_gw", "hw_apply", condition="decision == 'send_back'", flow_id="Flow_unit_result_send_back",
           name="退回")
    b.flow("unit_result_gw", "hw_approval_chain", condition="decision == 'approve' and grade in ('special', 'first')",
           flow_id="Flow_grade_high", name="同意；特级、一级")
    b.flow("unit_result_gw", "application_approved",
           condition="decision == 'approve' and grade not in ('special', 'first')", flow_id="Flow_grade_second",
           name="同意；二级：作业单位审批")
    b.flow("unit_result_gw", "application_rejected", flow_id="Flow_unit_result_rejected", name="不同意")
    b.chain("hw_approval_chain", "chain_gw")
    b.flow("chain_gw", "hw_apply", condition="decision == 'send_back'", flow_id="Flow_chain_send_back",
           name="退回")
    b.flow("chain_gw", "application_approved", condition="decision == 'approve'", flow_id="Flow_chain_approved",
           name="批准")
    b.flow("chain_gw", "application_rejected", flow_id="Flow_chain_rejected", name="不同意")
    return b


def _hot_work_plan_check() -> ProcessBuilder:
    """The work-plan reference of the application checked and linked (link_to_work_plan); an
    unknown number ends here with ``work_plan_ref_error`` and goes back to the applicant."""
    b = ProcessBuilder("hw_plan_check", "核对并关联作业计划")
    b.lane(WORKER)
    b.start("hw_plan_check_start", "已申请")
    b.end("plan_checked", "计划已核对", lane=WORKER)
    b.end("plan_ref_bad", "计划编号不存在", lane=WORKER)
    link_to_work_plan(b, "hw_plan_check_start", "plan_checked", "hot_work_permit", WORKER, back="plan_ref_bad")
    return b


def _hot_work_unit_review() -> ProcessBuilder:
    """The unit's review with the SIMOPS check: the permits live in the area are looked up before
    the review and again at its decision; cross-work the standard forbids, or without a
    coordinator, goes round to the review again; it ends with the unit's ``decision``."""
    b = ProcessBuilder("hw_unit", "作业单位审核")
    b.lane(PRODUCTION)
    b.start("hw_unit_start", "审核")
    b.script("simops_lookup", "查询区域内在办作业票", SIMOPS_LOOKUP, lane=PRODUCTION)
    b.user("hw_unit_review", "作业单位审核", lane=PRODUCTION, form="hot_work_unit_review.json",
           props={"not_completed_by": "hw_apply", "priority": "70"})
    # nearby_operations and coordinator are the reviewer's (optional) entries: read, never written here.
    b.script("simops_check", "交叉作业冲突检查", (
        "try:\n    reported_operations = nearby_operations\nexcept NameError:\n    reported_operations = []\n"
        "try:\n    coordinated = bool(coordinator)\nexcept NameError:\n    coordinated = False\n"
        "limits = {}\nforbidden_kinds = {}\nreasons = {}\n"
        "for i in range(len(simops_kinds)):\n"
        "    limits[simops_kinds[i]] = simops_min_m[i]\n"
        "    forbidden_kinds[simops_kinds[i]] = simops_forbidden[i]\n"
        "    reasons[simops_kinds[i]] = simops_clauses[i] + '：' + str(simops_min_m[i]) + ' m 内不应同时进行'\n"
        "simops_conflicts = [{'kind': op['kind'], 'distance_m': op['distance_m'],\n"
        "                     'permit_ref': op.get('permit_ref', ''), 'forbidden': forbidden_kinds[op['kind']],\n"
        "                     'reason': reasons[op['kind']]}\n"
        "                    for op in reported_operations\n"
        "                    if op['kind'] in limits and op['distance_m'] < limits[op['kind']]]\n"
        + SIMOPS_LOOKUP +  # again at decision time: a permit may have started during the review
        "simops_conflicts = simops_conflicts + active_permits_in_area\n"
        + SIMOPS_DECIDE +
        "del limits, forbidden_kinds, reasons, reported_operations"), lane=PRODUCTION)
    b.xor("unit_gw", "作业单位结论", default="Flow_unit_reject")
    b.end("unit_send_back", "退回", lane=PRODUCTION)
    b.end("unit_approved", "同意", lane=PRODUCTION)
    b.end("unit_rejected", "不同意", lane=PRODUCTION)
    b.chain("hw_unit_start", "simops_lookup", "hw_unit_review", "simops_check", "unit_gw")
    b.flow("unit_gw", "unit_send_back", condition="decision == 'send_back'", flow_id="Flow_unit_send_back",
           name="退回")
    b.flow("unit_gw", "simops_lookup", condition="decision == 'approve' and simops_blocked",
           flow_id="Flow_unit_simops", name="标准禁止的交叉作业，或冲突无协调人")
    b.flow("unit_gw", "unit_approved", condition="decision == 'approve' and not simops_blocked",
           flow_id="Flow_unit_ok", name="同意")
    b.flow("unit_gw", "unit_rejected", flow_id="Flow_unit_reject", name="不同意")
    return b


def _hot_work_rules() -> ProcessBuilder:
    """The decision tables run after each application: upgrade, area class, grade, gas threshold,
    daily re-analysis, SIMOPS distances and permit kinds."""
    b = ProcessBuilder("hw_rules", "判定规则")
    b.lane(WORKER).lane(PRODUCTION)
    b.start("hw_rules_start", "规则判定")
    b.business_rule("upgrade_rule", "判断是否升级", "hot_work_upgrade", lane=WORKER)
    b.business_rule("area_rule", "查区域类别", "area_classification", lane=WORKER)
    b.business_rule("grade_rule", "动火分级", "hot_work_grade", lane=WORKER)
    b.business_rule("gas_rule", "动火分析合格标准", "gas_pass_threshold", lane=WORKER)
    b.business_rule("daily_rule", "动火分析每日有效规则", "hot_work_daily_analysis", lane=WORKER)
    b.business_rule("simops_rule", "交叉作业距离要求", "simops_distances", lane=PRODUCTION)
    b.business_rule("simops_permit_rule", "交叉作业票类别", "simops_permits", lane=PRODUCTION)
    b.end("hw_rules_end", "规则已判定", lane=PRODUCTION)
    b.chain("hw_rules_start", "upgrade_rule", "area_rule", "grade_rule", "gas_rule", "daily_rule",
            "simops_rule", "simops_permit_rule", "hw_rules_end")
    return b


def _hot_work_approval_chain() -> ProcessBuilder:
    """特级、一级: supervision's review, then the approval by supervision (一级) or the plant leader
    (特级); it ends with the approver's ``decision`` (退回 and 不同意 are routed outside)."""
    b = ProcessBuilder("hw_approval_chain", "安全审核与审批")
    b.lane(SUPERVISION).lane(LEADER_IN_CHARGE)
    b.start("hw_approval_chain_start", "审核审批")
    b.user("hw_safety_review", "安全管理部门审核", lane=SUPERVISION, form="permit_review.json",
           props={"not_completed_by": "hw_apply,hw_unit_review", "priority": "70"})
    b.xor("safety_gw", "安全审核结论", default="Flow_safety_reject")
    b.xor("final_gw", "最终审批人", default="Flow_final_first")
    b.user("hw_safety_approval", "一级动火审批（安全管理部门）", lane=SUPERVISION, form="permit_review.json",
           props={"not_completed_by": "hw_apply,hw_unit_review,hw_safety_review", "priority": "80"})
    b.user("hw_leader_approval", "特级动火审批（主管领导）", lane=LEADER_IN_CHARGE, form="permit_review.json",
           props={"not_completed_by": "hw_apply,hw_unit_review,hw_safety_review", "priority": "90"})
    b.xor("approval_gw", "审批结论", default="Flow_approval_reject")
    b.end("chain_approved", "批准", lane=SUPERVISION)
    b.end("chain_send_back", "退回", lane=SUPERVISION)
    b.end("chain_rejected", "不同意", lane=SUPERVISION)
    b.chain("hw_approval_chain_start", "hw_safety_review", "safety_gw")
    b.flow("safety_gw", "chain_send_back", condition="decision == 'send_back'", flow_id="Flow_safety_send_back",
           name="退回")
    b.flow("safety_gw", "final_gw", condition="decision == 'approve'", flow_id="Flow_safety_ok", name="同意")
    b.flow("safety_gw", "chain_rejected", flow_id="Flow_safety_reject", name="不同意")
    b.flow("final_gw", "hw_leader_approval", condition="grade == 'special'", flow_id="Flow_final_special",
           name="特级")
    b.flow("final_gw", "hw_safety_approval", flow_id="Flow_final_first", name="一级")
    b.chain("hw_safety_approval", "approval_gw")
    b.chain("hw_leader_approval", "approval_gw")
    b.flow("approval_gw", "chain_approved", condition="decision == 'approve'", flow_id="Flow_approval_ok", name="批准")
    b.flow("approval_gw", "chain_send_back", condition="decision == 'send_back'", flow_id="Flow_approval_send_back",
           name="退回")
    b.flow("approval_gw", "chain_rejected", flow_id="Flow_approval_reject", name="不批准")
    return b


def _hot_work_suspension(b: ProcessBuilder, states, suffix: str = "") -> None:
    """Gas alarm and stop-work on the tasks ``states`` ((boundary suffix, task id) pairs) suspend the
    permit (interrupting); a stop also waits for the restart. Both then need a new analysis."""
    b.script(f"suspend_alarm{suffix}", "气体报警：暂停作业", (
        "permit_status = 'suspended'\nsuspended_at = now().isoformat()\nsuspended_by = 'gas_alarm'\n"
        "analysis_purpose = 'resume_suspended'"), lane=SUPERVISION)
    b.script(f"suspend_stop{suffix}", "停工指令：暂停作业", (
        "permit_status = 'suspended'\nsuspended_at = now().isoformat()\nsuspended_by = 'stop_work'\n"
        "analysis_purpose = 'resume_suspended'"), lane=SUPERVISION)
    b.message_catch(f"wait_restart{suffix}", "等待复工指令", "restart", lane=SUPERVISION, props=BY_EQUIPMENT)
    for state, task_id in states:
        b.message_boundary(f"gas_alarm{state}", "气体报警", task_id, "gas_alarm")
        b.message_boundary(f"stop_work{state}", "停工指令", task_id, "stop_work", props=BY_EQUIPMENT)
        b.chain(f"gas_alarm{state}", f"suspend_alarm{suffix}")
        b.chain(f"stop_work{state}", f"suspend_stop{suffix}")
    b.chain(f"suspend_stop{suffix}", f"wait_restart{suffix}")


def _hot_work_prework() -> ProcessBuilder:
    """动火分析与作业前确认: the gas analysis (threshold, sample time, re-test until it passes), then
    by purpose the shift leader's site check (first start), supervision's resume approval (after a
    suspension) or straight to the pre-start check (after a break or a new day); the pre-start check
    refuses a stale sample, a missing monitor or an expired permit. Waiting here the permit is
    live: an alarm or a stop suspends it again."""
    b = ProcessBuilder("hw_prework", "动火分析与作业前确认")
    b.lane(SUPERVISION).lane(LEADER)
    b.start("hw_prework_start", "分析")
    b.sub("hw_analysis", "动火分析（采样、判定）", _hot_work_analysis(), lane=LEADER)
    b.xor("gas_gw", "分析合格?", default="Flow_gas_to_start")
    b.user("hw_site_check", "作业现场确认", lane=LEADER, form="hot_work_site_check.json",
           props={"due": "minutes(sample_max_age_minutes)", "priority": "80"})
    b.sub("hw_start_check", "作业前检查", _hot_work_start_check(), lane=LEADER)
    b.xor("start_result_gw", "可以开始?", default="Flow_start_result_ok")
    b.sub("hw_resume", "恢复作业审批（暂停后）", _hot_work_resume(), lane=SUPERVISION)
    b.xor("resume_result_gw", "恢复审批结论", default="Flow_resume_result_ended")
    b.end("prework_ready", "可以作业", lane=LEADER)
    b.end("prework_ended", "作业票失效或终止", lane=LEADER)
    # Paused, waiting for a (re-)analysis (daily, after a long break, after a suspension), for the
    # site check or for the resume approval the permit is still live: an alarm or a stop must reach
    # it there too (interrupting, as on the work task), or a stop would be lost and work could resume.
    # The analysis task is the first (and only) wait of its sub-process, so its alarm and stop sit on
    # the sub-process: they fire only while the task waits, with the task's own data.
    waiting = {"hw_gas_analysis": "hw_analysis", "hw_resume_approval": "hw_resume"}
    _hot_work_suspension(b, [(f"_{suffix}", waiting.get(task_id, task_id)) for suffix, task_id in HW_WAITING_STATES
                             if task_id != "hw_resume_request"], "_waiting")

    b.chain("hw_prework_start", "hw_analysis", "gas_gw")
    b.flow("gas_gw", "hw_analysis", condition="not gas_pass", flow_id="Flow_gas_fail",
           name="不合格，重新分析")
    b.flow("gas_gw", "hw_site_check", condition="gas_pass and analysis_purpose == 'start'",
           flow_id="Flow_gas_to_site", name="合格")
    b.flow("gas_gw", "hw_resume", condition="gas_pass and analysis_purpose == 'resume_suspended'",
           flow_id="Flow_gas_to_resume_approval", name="合格，报监督")
    b.flow("gas_gw", "hw_start_check", flow_id="Flow_gas_to_start", name="合格，恢复作业")
    # The check ends where its flows used to leave it; routed here on the same data.
    b.chain("hw_site_check", "hw_start_check", "start_result_gw")
    b.flow("start_result_gw", "prework_ended", condition="not permit_valid", flow_id="Flow_start_result_expired",
           name="已过期")
    b.flow("start_result_gw", "hw_analysis", condition="permit_valid and not sample_fresh",
           flow_id="Flow_start_result_stale", name="样品过时效")
    b.flow("start_result_gw", "hw_site_check", condition="permit_valid and sample_fresh and not monitor_ok",
           flow_id="Flow_start_result_no_monitor", name="未设连续监测")
    b.flow("start_result_gw", "prework_ready", flow_id="Flow_start_result_ok", name="开始")
    # The resume approval's decision, routed here as inside 恢复作业审批 (the sub-process ends where
    # its flows used to leave it).
    b.chain("hw_resume", "resume_result_gw")
    b.flow("resume_result_gw", "hw_start_check", condition="decision == 'approve' and bool(work_started_at)",
           flow_id="Flow_resume_result_ok", name="同意恢复")
    b.flow("resume_result_gw", "hw_site_check", condition="decision == 'approve' and not work_started_at",
           flow_id="Flow_resume_result_first_start", name="同意，现场确认")
    b.flow("resume_result_gw", "prework_ended", flow_id="Flow_resume_result_ended", name="终止作业")
    b.chain("suspend_alarm_waiting", "hw_analysis")
    b.chain("wait_restart_waiting", "hw_analysis")
    return b


def _hot_work_start_check() -> ProcessBuilder:
    """作业前检查: the sample's age (and the day's analysis), the continuous monitor and the permit's
    validity; an expired permit is marked here. It ends where the flows used to leave the check."""
    b = ProcessBuilder("hw_start_check", "作业前检查")
    b.lane(LEADER)
    b.start("hw_start_check_start", "检查")
    b.script("start_check", "作业前检查（样品时效、连续监测）", (
        "sample_age_minutes = (now() - parse_datetime(sampled_at)).total_seconds() / 60\n"
        "sample_fresh = sample_age_minutes <= sample_max_age_minutes and "
        "(not daily_reanalysis or now() < parse_datetime(analysis_valid_until))\n"
        "monitor_ok = bool(gas_monitor_online) or not continuous_monitoring\n"
        # The expiry timer watches the work task only: a permit waiting for a re-analysis may run out.
        + PERMIT_VALID), lane=LEADER)
    b.xor("start_gw", "可以开始?", default="Flow_start_ok")
    b.script("expire_at_start", "作业票失效", "permit_status = 'expired'", lane=LEADER)
    b.end("start_expired", "作业票已过期", lane=LEADER)
    b.end("start_not_ready", "不能开始", lane=LEADER)
    b.end("start_ok", "可以开始", lane=LEADER)
    b.chain("hw_start_check_start", "start_check", "start_gw")
    b.flow("start_gw", "expire_at_start", condition="not permit_valid", flow_id="Flow_start_expired",
           name="作业票已过期")
    b.flow("start_gw", "start_not_ready", condition="permit_valid and not (sample_fresh and monitor_ok)",
           flow_id="Flow_sample_stale", name="样品超过时效或未设连续监测")
    b.flow("start_gw", "start_ok", flow_id="Flow_start_ok", name="开始")
    b.chain("expire_at_start", "start_expired")
    return b


def _hot_work_resume() -> ProcessBuilder:
    """恢复作业审批: after a suspension and a passed analysis, supervision decides whether the work may
    resume; not agreed, the permit is cancelled. The approval is the first and only wait here, so the
    gas alarm and stop-work that reach it sit on the sub-process (the same data either way)."""
    b = ProcessBuilder("hw_resume", "恢复作业审批")
    b.lane(SUPERVISION).lane(LEADER)
    b.start("hw_resume_start", "分析合格")
    b.user("hw_resume_approval", "恢复作业审批（安全监督）", lane=SUPERVISION, form="permit_review.json",
           props={"not_completed_by": "hw_apply", "priority": "90"})
    b.xor("resume_gw", "同意恢复?", default="Flow_resume_reject")
    b.script("cancel", "作业票作废", "permit_status = 'cancelled'", lane=LEADER)
    b.end("resume_approved", "同意恢复", lane=SUPERVISION)
    b.end("resume_first_start", "同意，作业前现场确认", lane=SUPERVISION)
    b.end("resume_cancelled", "终止作业", lane=LEADER)
    b.chain("hw_resume_start", "hw_resume_approval", "resume_gw")
    b.flow("resume_gw", "resume_approved", condition="decision == 'approve' and bool(work_started_at)",
           flow_id="Flow_resume_ok", name="同意恢复")
    # Suspended before the work ever started (during the first analysis or the site check): the
    # shift leader's site check before the start still has to happen.
    b.flow("resume_gw", "resume_first_start", condition="decision == 'approve' and not work_started_at",
           flow_id="Flow_resume_first_start", name="同意，作业前现场确认")
    b.flow("resume_gw", "cancel", flow_id="Flow_resume_reject", name="终止作业")
    b.chain("cancel", "resume_cancelled")
    return b


def _hot_work_analysis() -> ProcessBuilder:
    """动火分析: the shift leader's sample, judged against the grade's threshold (a sample time in
    the future is refused and not recorded); ``gas_pass`` says whether it passed."""
    b = ProcessBuilder("hw_analysis", "动火分析")
    b.lane(LEADER)
    b.start("hw_analysis_start", "采样")
    b.user("hw_gas_analysis", "动火分析", lane=LEADER, form="gas_analysis.json",
           props={"not_completed_by": "hw_apply", "priority": "80"})
    b.script("gas_check", "判定分析结果", when_sample_time_ok(ANALYSIS_VALID_UNTIL + (
        "gas_pass = combustible_pct <= max_combustible_pct\n"
        "gas_results = gas_results + "
        "[{'at': sampled_at, 'combustible_pct': combustible_pct, 'pass': gas_pass}]")), lane=LEADER)
    b.end("hw_analysis_end", "已判定", lane=LEADER)
    b.chain("hw_analysis_start", "hw_gas_analysis", "gas_check", "hw_analysis_end")
    return b


def _hot_work_working() -> ProcessBuilder:
    """动火作业: the work under its validity timer; a short interruption resumes at once, a long one
    (or a new plant day) ends here for a new analysis; a gas alarm or a stop-work (also while the
    crew waits to resume) suspends the permit and ends here for the re-analysis and supervision's
    approval; the expiry ends the work."""
    b = ProcessBuilder("hw_working", "动火作业")
    b.lane(WORKER).lane(SUPERVISION).lane(LEADER)
    b.start("hw_working_start", "开始作业")
    b.script("work_start", "开始/恢复作业", (
        "if not work_started_at:\n"
        "    work_started_at = now().isoformat()\n"
        "permit_status = 'active'\n"
        # A day boundary at or after the expiry never fires: the expiry ends the work first.
        "if daily_reanalysis and parse_datetime(analysis_valid_until) < parse_datetime(permit_expires_at):\n"
        "    daily_retest_at = analysis_valid_until\n"
        "else:\n"
        "    daily_retest_at = (parse_datetime(permit_expires_at) + days(1)).isoformat()"), lane=WORKER)
    b.user("hw_work", "动火作业", lane=WORKER, form="hot_work_progress.json",
           props={"due": "parse_datetime(permit_expires_at)", "priority": "60"})
    b.timer_boundary("expired", "作业票到期", "hw_work", "date", "permit_expires_at")
    b.timer_boundary("new_day", "新的作业日", "hw_work", "date", "daily_retest_at")
    b.script("daily_pause", "每日动火前重新分析", (
        "paused_at = now().isoformat()\npermit_status = 'paused'\nanalysis_purpose = 'daily'"), lane=WORKER)
    b.xor("work_gw", "作业状态", default="Flow_work_done")
    b.script("pause", "作业中断登记", "paused_at = now().isoformat()\npermit_status = 'paused'", lane=WORKER)
    b.user("hw_resume_request", "申请恢复作业", lane=WORKER, form="resume_request.json")
    b.script("interruption", "计算中断时长", (
        "interrupted_minutes = (now() - parse_datetime(paused_at)).total_seconds() / 60\n"
        "new_work_day = bool(daily_reanalysis) and now() >= parse_datetime(analysis_valid_until)\n"
        "analysis_purpose = 'daily' if new_work_day else 'resume_interrupted'"), lane=WORKER)
    b.xor("interrupt_gw", "中断超时?", default="Flow_short_break")
    b.script("expire", "作业票失效", "permit_status = 'expired'", lane=LEADER)
    b.end("working_done", "作业完成", lane=WORKER)
    b.end("working_reanalysis", "重新分析", lane=WORKER)
    b.end("working_suspended", "已暂停，待复测与恢复审批", lane=SUPERVISION)
    b.end("working_expired", "作业票到期", lane=LEADER)
    _hot_work_suspension(b, [("", "hw_work"), ("_paused", "hw_resume_request")])

    b.chain("hw_working_start", "work_start", "hw_work", "work_gw")
    b.flow("work_gw", "pause", condition="action == 'pause'", flow_id="Flow_work_pause", name="中断")
    b.flow("work_gw", "working_done", flow_id="Flow_work_done", name="完成")
    b.chain("pause", "hw_resume_request", "interruption", "interrupt_gw")
    b.flow("interrupt_gw", "working_reanalysis", condition="interrupted_minutes > interruption_minutes or new_work_day",
           flow_id="Flow_long_break", name="超时或跨作业日，重新分析")
    b.flow("interrupt_gw", "work_start", flow_id="Flow_short_break", name="未超时")
    b.chain("new_day", "daily_pause", "working_reanalysis")
    b.chain("suspend_alarm", "working_suspended")
    b.chain("wait_restart", "working_suspended")
    b.chain("expired", "expire", "working_expired")
    return b


BPMN["hot_work_permit.bpmn"] = hot_work_permit()


# =========================================================================== confined_space_permit

DMN["confined_space_limits.dmn"] = dmn(
    "confined_space_limits", "受限空间作业限值（GB 30871-2022 6.5）",
    [{"label": "富氧环境", "expr": "oxygen_rich_space", "type": "boolean"}],
    [("氧含量下限（%）", "o2_min_pct", "number"), ("氧含量上限（%）", "o2_max_pct", "number"),
     ("定时检测间隔（小时）", "reading_interval_hours", "number"),
     ("检测逾期宽限（分钟）", "reading_grace_minutes", "number"),
     ("中断后须重新检测（分钟）", "interruption_minutes", "number"),
     ("作业票有效期（小时）", "validity_hours", "number")],
    [(["False"], ["19.5", "21", "2", "30", "60", "24"], "一般受限空间：氧 19.5–21 %；每 2 h 记录；中断 > 60 min 重新检测"),
     (["True"], ["19.5", "23.5", "2", "30", "60", "24"], "富氧环境：氧 ≤ 23.5 %")])

# Toxic gases in a confined space are measured values checked against GBZ 2.1 (GB 30871-2022 6.5:
# "有毒有害气体（物质）浓度应符合 GBZ 2.1 的规定"). One row per gas, mg/m³, values of GBZ 2.1-2019
# table 1 as GB/T 50493-2019 lists them for toxic-gas detectors (reproduced at
# http://www.bjime.com/jsshow-464492.html). A spot reading is judged against the MAC where GBZ 2.1
# sets one, otherwise against the PC-TWA: people work inside for hours, so the 15-minute PC-STEL would
# be too lax (a plant may change the entry limit column; it is a default).
# (gas code, name, MAC, PC-TWA, PC-STEL); "" = not set by GBZ 2.1.
TOXIC_GASES = [
    ("h2s", "硫化氢 H₂S", "10", "", ""),
    ("co", "一氧化碳 CO（非高原）", "", "20", "30"),
    ("nh3", "氨 NH₃", "", "20", "30"),
    ("cl2", "氯 Cl₂", "1", "", ""),
    ("so2", "二氧化硫 SO₂", "", "5", "10"),
    ("no2", "二氧化氮 NO₂", "", "5", "10"),
    ("hcn", "氰化氢 HCN", "1", "", ""),
    ("benzene", "苯 C₆H₆", "", "6", "10"),
    ("toluene", "甲苯 C₇H₈", "", "50", "100"),
    ("xylene", "二甲苯 C₈H₁₀", "", "50", "100"),
    ("hcl", "氯化氢 HCl", "7.5", "", ""),
    ("hf", "氟化氢 HF", "2", "", ""),
    ("cocl2", "光气 COCl₂", "0.5", "", ""),
    ("ethylene_oxide", "环氧乙烷 C₂H₄O", "", "2", ""),
    ("acrylonitrile", "丙烯腈 C₃H₃N", "", "1", "2"),
    ("methanol", "甲醇 CH₃OH", "", "25", "50"),
    ("co2", "二氧化碳 CO₂", "", "9000", "18000"),
]


def _oel(value: str) -> str:
    return value if value else "None"


DMN["toxic_exposure_limits.dmn"] = dmn(
    "toxic_exposure_limits", "受限空间有毒气体职业接触限值（GBZ 2.1-2019，mg/m³；GB 30871-2022 6.5）",
    [{"label": "限值标准（作业票登记时选定）", "expr": "oel_standard", "type": "string",
      "values": ['"GBZ 2.1-2019"']}],
    [("气体", "toxic_gas_codes", "string"), ("名称", "toxic_gas_names", "string"),
     ("MAC 最高容许浓度", "toxic_mac_mg_m3", "number"), ("PC-TWA", "toxic_twa_mg_m3", "number"),
     ("PC-STEL", "toxic_stel_mg_m3", "number"),
     ("进入判定限值（默认：有 MAC 用 MAC，否则 PC-TWA）", "toxic_limit_mg_m3", "number")],
    [(['"GBZ 2.1-2019"'], [f'"{code}"', f'"{name}"', _oel(mac), _oel(twa), _oel(stel), mac or twa],
      "GBZ 2.1-2019 表 1" + ("，MAC" if mac else "，PC-TWA"))
     for code, name, mac, twa, stel in TOXIC_GASES],
    hit_policy="COLLECT")

FORMS["confined_space_application.json"] = form("受限空间安全作业票申请", {
    "space_name": text("受限空间名称及编号", min_length=2),
    "equipment_id": text("设备位号（按设备停工时据此通知）", min_length=0),
    "work_plan_ref": text("作业计划编号（计划中的特殊作业据此关联）", min_length=0, max_length=200),
    "work_plan_ref_error": text("作业计划编号核对结果", min_length=0, readOnly=True),
    "purpose": text("作业内容", min_length=2),
    "painting_inside": flag("空间内涂装（喷漆、刷漆）", description="GB 30871-2022 6.7：受限空间内动火时不得涂装"),
    "former_media": text("原有介质", min_length=1),
    "gas_lel_pct": number("介质爆炸下限 LEL（不可燃填 100）", "%（体积分数）", minimum=0, maximum=100),
    "oxygen_rich_space": flag("富氧环境"),
    "hazards": {"type": "array", "title": "危害因素", "minItems": 1, "items": text("危害因素")},
    "isolation_method": text("隔离方式（盲板、断电、上锁挂牌）", min_length=2),
    "entrants": people("进入作业人员"),
    "attendant": text("监护人（全程在外监护）"),
    "supervisor": text("作业负责人"),
    "communication": text("通讯联络方式", min_length=2),
    "rescue_plan": text("应急救援措施及器材", min_length=2),
    "planned_start": when("计划开始时间"),
    "planned_end": when("计划结束时间"),
}, ["space_name", "purpose", "former_media", "gas_lel_pct", "oxygen_rich_space", "hazards", "isolation_method",
    "entrants", "attendant", "supervisor", "communication", "rescue_plan", "planned_start"],
    "OSHA 1910.146(f) 进入许可应载明的内容")

FORMS["isolation_confirmation.json"] = form("隔离、清洗、置换确认", {
    "isolated": {"type": "boolean", "const": True, "title": "已与相连管道、设备可靠隔离（加盲板或断开）"},
    "energy_locked": {"type": "boolean", "const": True, "title": "动力电源已切断并上锁挂牌"},
    "purged": {"type": "boolean", "const": True, "title": "已清洗、置换、通风"},
    "note": text("说明", min_length=0),
}, ["isolated", "energy_locked", "purged"])

FORMS["confined_space_gas_test.json"] = form("受限空间气体检测", {
    "sampled_at": when("检测时间"),
    "oxygen_pct": number("氧含量", "%（体积分数）", minimum=0, maximum=100),
    "combustible_pct": number("可燃气体浓度", "%（体积分数）", minimum=0, maximum=100),
    # Measured values, not a tick box: each is judged against toxic_exposure_limits.dmn (GBZ 2.1).
    "toxic_readings": {"type": "array", "title": "有毒气体检测值（原有介质及可能产生的有毒气体，至少一项）",
                       "minItems": 1, "items": {
                           "type": "object", "title": "有毒气体", "required": ["gas", "value_mg_m3"],
                           "additionalProperties": False, "properties": {
                               "gas": choice("气体", [(code, name) for code, name, *_ in TOXIC_GASES]),
                               "value_mg_m3": number("浓度", "mg/m³", minimum=0)}}},
    "analyst": text("检测人"),
    "gas_analysis_error": text("采样时间核对结果", min_length=0, readOnly=True,
                               description="超前于当前时间（超过时钟误差）的采样时间不予采信"),
    "toxic_exceedances": text("超过职业接触限值的有毒气体", min_length=0, readOnly=True,
                              description="GBZ 2.1：超限时不得进入，通风处置后重新检测"),
}, ["sampled_at", "oxygen_pct", "combustible_pct", "toxic_readings", "analyst"])

FORMS["confined_space_site_check.json"] = form("进入前现场确认", {
    "attendant_outside": {"type": "boolean", "const": True, "title": "监护人在受限空间外全程监护（6.8）"},
    "rescue_ready": {"type": "boolean", "const": True, "title": "救援器材就位"},
    "communication_tested": {"type": "boolean", "const": True, "title": "通讯畅通"},
    "ventilation_running": flag("强制通风运行中"),
}, ["attendant_outside", "rescue_ready", "communication_tested"])

FORMS["confined_space_entry_log.json"] = form("人员和工器具进出登记", {
    "action": choice("登记类型", [("log", "登记进出"), ("pause", "作业中断"), ("complete", "作业完成，申请验收")]),
    "people_inside": {"type": "array", "title": "当前在内人员", "items": text("姓名")},
    "tools_inside": number("当前在内工器具", "件", minimum=0, integer=True),
    "note": text("说明", min_length=0),
}, ["action", "people_inside", "tools_inside"])

FORMS["evacuation.json"] = form("撤离与处置", {
    "all_evacuated": {"type": "boolean", "const": True, "title": "人员已全部撤出"},
    "people_counted": number("清点撤出人数", "人", minimum=0, integer=True),
    "treatment": text("处置措施（通风、隔离等）", min_length=2),
}, ["all_evacuated", "people_counted", "treatment"])

FORMS["confined_space_acceptance.json"] = form("受限空间作业完工验收", {
    "people_out": {"type": "boolean", "const": True, "title": "人员已全部撤出并清点"},
    "tools_out": {"type": "boolean", "const": True, "title": "工器具已全部带出并清点"},
    "facilities_restored": {"type": "boolean", "const": True, "title": "人孔封闭、安全设施恢复"},
    "comment": text("验收意见", min_length=0),
}, ["people_out", "tools_out", "facilities_restored"])


# Where a confined-space permit waits while paused or suspended: the resume request after an
# interruption, and the (re-)test and site check before anyone goes (back) in.
# Each measured toxic gas against its entry limit from toxic_exposure_limits.dmn (evaluated once
# after the application: every row of the standard's edition the permit named, one row per gas). A gas the table does not know fails:
# without a limit nobody can say it is safe to go in.
TOXIC_CHECK = (
    "toxic_limits = dict(zip(toxic_gas_codes, toxic_limit_mg_m3))\n"
    "toxic_names = dict(zip(toxic_gas_codes, toxic_gas_names))\n"
    "toxic_checked = []\n"
    "r = limit = None\n"
    "for r in toxic_readings:\n"
    "    limit = toxic_limits.get(r['gas'])\n"
    "    toxic_checked.append({'gas': r['gas'], 'value_mg_m3': r['value_mg_m3'], 'limit_mg_m3': limit,\n"
    "                          'pass': limit is not None and r['value_mg_m3'] <= limit})\n"
    "toxic_ok = len(toxic_checked) > 0 and all([t['pass'] for t in toxic_checked])\n"
    "toxic_exceedances = '；'.join([toxic_names.get(t['gas'], t['gas']) + ' ' + str(t['value_mg_m3']) + ' mg/m³ > ' +\n"
    "                               (str(t['limit_mg_m3']) + ' mg/m³' if t['limit_mg_m3'] is not None\n"
    "                                else '（限值表中无此气体）') for t in toxic_checked if not t['pass']])\n"
    "del r, limit, toxic_limits, toxic_names\n")

CS_PAUSED_STATES = [("paused", "cs_resume_request"), ("retest", "cs_gas_test"), ("site", "cs_site_check")]


# The pre-entry test and the periodic reading judge a sample the same way (kind: pre_entry/periodic).
CS_CHECK = ("o2_ok = o2_min_pct <= oxygen_pct <= o2_max_pct\n" + TOXIC_CHECK +
            "gas_pass = o2_ok and combustible_pct <= max_combustible_pct and toxic_ok\n"
            "readings = readings + [{'at': sampled_at, 'o2': oxygen_pct, 'combustible': combustible_pct, "
            "'toxic': toxic_checked, 'pass': gas_pass, 'kind': '%s'}]")


def confined_space_permit() -> str:
    """受限空间: a short main path whose phases are collapsed sub-processes (申请与审批; 进入前检测与
    确认, which ends by starting the work; 受限空间作业 up to the next periodic reading), with the
    evacuation and the terminate ends on the main plane.

    The work phase ends after each passed periodic reading and 作业结果 sends it round again: one
    instance of the phase holds at most one reading, so the reading's overdue escalation (a
    non-interrupting timer inside) is thrown as an escalation to the non-interrupting boundary
    event 检测逾期 of that instance, whose path (气体检测逾期督办, supervision) runs on the main plane
    and outlives the phase exactly as it did before the split; the terminate ends still cancel it."""
    b = ProcessBuilder("confined_space_permit", "受限空间安全作业票")
    b.lane(WORKER).lane(LEADER).lane(PRODUCTION).lane(SUPERVISION)
    b.start("start", "申请进入受限空间", variables=["area"])
    b.sub("cs_application", "申请、审批与签发", _confined_space_application(), lane=WORKER)
    b.xor("application_gw", "批准?", default="Flow_cs_application_rejected")
    b.script("reject", "作业票作废", "permit_status = 'rejected'", lane=PRODUCTION)
    b.end("rejected", "不予批准", lane=PRODUCTION)
    b.sub("cs_pretest", "进入前检测与确认", _confined_space_pretest(), lane=LEADER)
    b.xor("pretest_gw", "可以进入?", default="Flow_cs_pretest_evacuate")
    b.sub("cs_working", "受限空间作业与检测", _confined_space_working(), lane=WORKER)
    b.escalation_boundary("reading_overdue", "检测逾期", "cs_working", "reading_overdue")
    b.user("cs_reading_overdue", "气体检测逾期督办", lane=SUPERVISION, form="escalation_instruction.json",
           props={"priority": "95"})
    b.end("overdue_handled", "已督办", lane=SUPERVISION)
    b.xor("working_gw", "作业结果", default="Flow_cs_working_evacuate")
    b.sub("cs_evacuation", "撤离与等待复工", _confined_space_evacuation(), lane=LEADER)
    b.xor("evacuation_gw", "撤离后", default="Flow_cs_evacuation_retest")
    b.end("expired_end", "作业票到期收回", terminate=True, lane=LEADER)
    b.user("cs_acceptance", "完工验收", lane=PRODUCTION, form="confined_space_acceptance.json",
           props={"not_completed_by": "cs_apply"})
    b.script("close", "关闭作业票", "permit_status = 'closed'\nclosed_at = now().isoformat()", lane=PRODUCTION)
    b.end("end", "作业票关闭", terminate=True, lane=PRODUCTION)

    b.chain("start", "cs_application", "application_gw")
    b.flow("application_gw", "cs_pretest", condition="decision == 'approve'", flow_id="Flow_cs_application_approved",
           name="批准")
    b.flow("application_gw", "reject", flow_id="Flow_cs_application_rejected", name="不同意")
    b.chain("reject", "rejected")
    b.chain("cs_pretest", "pretest_gw")
    b.flow("pretest_gw", "cs_working", condition="permit_status == 'active'", flow_id="Flow_cs_pretest_enter",
           name="进入")
    b.flow("pretest_gw", "cs_evacuation", flow_id="Flow_cs_pretest_evacuate", name="撤离")
    b.chain("reading_overdue", "cs_reading_overdue", "overdue_handled")
    # The phase ends where its flow used to leave the work; the entry log and the status say where:
    # the last entry 'complete' with nobody inside (as 登记类型 decided), 'active' after a passed
    # reading, 'paused' after a long break, otherwise (suspended, expired) the evacuation.
    b.chain("cs_working", "working_gw")
    done = "len(entry_log) > 0 and entry_log[-1]['action'] == 'complete' and all_out"
    b.flow("working_gw", "cs_acceptance", condition=f"permit_status == 'active' and {done}",
           flow_id="Flow_cs_working_done", name="验收")
    b.flow("working_gw", "cs_working", condition=f"permit_status == 'active' and not ({done})",
           flow_id="Flow_cs_working_next", name="检测合格")
    b.flow("working_gw", "cs_pretest", condition="permit_status == 'paused'", flow_id="Flow_cs_working_long_break",
           name="中断超时")
    b.flow("working_gw", "cs_evacuation", flow_id="Flow_cs_working_evacuate", name="撤离")
    # The evacuation ends after the restart order (a stop) or at once; an expired permit ends here.
    b.chain("cs_evacuation", "evacuation_gw")
    b.flow("evacuation_gw", "expired_end", condition="suspended_by == 'expired'", flow_id="Flow_after_expiry",
           name="到期")
    b.flow("evacuation_gw", "cs_pretest", flow_id="Flow_cs_evacuation_retest", name="重新检测")
    b.chain("cs_acceptance", "close", "end")
    return b.to_xml()


def _confined_space_evacuation() -> ProcessBuilder:
    """撤离与处置: everybody out and the cause treated; after a stop-work order the permit waits for the
    restart order here; it ends for a new test (or, expired, for the permit's end on the main plane)."""
    b = ProcessBuilder("cs_evacuation", "撤离与处置")
    b.lane(LEADER)
    b.start("cs_evacuation_start", "撤离")
    b.user("cs_evacuate", "撤离人员并处置", lane=LEADER, form="evacuation.json", props={"priority": "99"})
    b.script("evacuated", "登记撤离", "people_inside = []\nentry_log = entry_log + [{'at': now().isoformat(), "
             "'action': 'evacuated', 'people_inside': [], 'tools_inside': tools_inside}]", lane=LEADER)
    b.xor("after_evacuation_gw", "撤离后", default="Flow_after_alarm")
    b.message_catch("wait_restart", "等待复工指令", "restart", lane=LEADER, props=BY_EQUIPMENT)
    b.end("evacuation_done", "已撤离", lane=LEADER)
    b.chain("cs_evacuation_start", "cs_evacuate", "evacuated", "after_evacuation_gw")
    b.flow("after_evacuation_gw", "wait_restart", condition="suspended_by == 'stop_work'",
           flow_id="Flow_after_stop", name="停工：等待复工")
    b.flow("after_evacuation_gw", "evacuation_done", flow_id="Flow_after_alarm", name="报警、检测不合格或到期")
    b.chain("wait_restart", "evacuation_done")
    return b


def _confined_space_working() -> ProcessBuilder:
    """受限空间作业: the entry log loop, an interruption (a short one resumes here, a long one ends for a
    new test), the periodic reading (passed: ends, and the main plane starts the phase again; failed:
    ends for the evacuation), gas alarm, stop-work and expiry (end for the evacuation). A reading not
    recorded in time throws the escalation 检测逾期 to the main plane and goes on waiting."""
    b = ProcessBuilder("cs_working", "受限空间作业")
    b.lane(WORKER).lane(LEADER)
    b.start("cs_working_start", "进入")
    # A short interruption resumes without a new test (the same script as at the entry, its own id).
    b.script("work_resume", "恢复作业", (
        "if not work_started_at:\n"
        "    work_started_at = now().isoformat()\n"
        "next_reading_due = (now() + hours(reading_interval_hours)).isoformat()\n"
        "permit_status = 'active'"), lane=WORKER)
    # The entry log states who and what is inside now: it overrules the process's tally (none at the
    # start, emptied by an evacuation); the audit keeps each change with old and new value.
    b.user("cs_work", "受限空间作业（进出登记）", lane=WORKER, form="confined_space_entry_log.json",
           props={"due": "parse_datetime(permit_expires_at)", "overrides": "people_inside,tools_inside",
                  "override_roles": "worker"})
    # Four events on one task: their flows run down 46 px apart, so the two in the middle carry
    # two-character names that fit beside their own flow; the outer two have room to the side.
    b.timer_boundary("reading_due", "到检测时间", "cs_work", "date", "next_reading_due")
    b.timer_boundary("expired", "到期", "cs_work", "date", "permit_expires_at")
    b.message_boundary("stop_work", "停工", "cs_work", "stop_work", props=BY_EQUIPMENT)
    b.message_boundary("gas_alarm", "气体报警", "cs_work", "gas_alarm")
    # Paused the permit is still live: an alarm or a stop must reach it there too, or a stop during
    # the break would be lost (the re-test and the site check carry theirs inside 进入前检测与确认).
    for suffix, task_id in CS_PAUSED_STATES[:1]:
        b.message_boundary(f"gas_alarm_{suffix}", "气体报警", task_id, "gas_alarm")
        b.message_boundary(f"stop_work_{suffix}", "停工指令", task_id, "stop_work", props=BY_EQUIPMENT)
    b.script("log", "记录进出", (
        "entry_log = entry_log + [{'at': now().isoformat(), 'action': action, 'people_inside': people_inside, "
        "'tools_inside': tools_inside}]\n"
        "all_out = len(people_inside) == 0 and tools_inside == 0"), lane=WORKER)
    b.xor("work_gw", "登记类型", default="Flow_cs_log")
    b.script("pause", "作业中断登记", "paused_at = now().isoformat()\npermit_status = 'paused'", lane=WORKER)
    b.user("cs_resume_request", "申请恢复作业", lane=WORKER, form="resume_request.json")
    b.script("interruption", "计算中断时长",
             "interrupted_minutes = (now() - parse_datetime(paused_at)).total_seconds() / 60", lane=WORKER)
    b.xor("interrupt_gw", "中断超时?", default="Flow_cs_short_break")
    b.user("cs_reading", "定时气体检测记录", lane=LEADER, form="confined_space_gas_test.json",
           props={"due": "minutes(reading_grace_minutes)", "priority": "90"})
    b.timer_boundary("reading_missed", "检测逾期", "cs_reading", "duration",
                     "'PT' + str(reading_grace_minutes) + 'M'", cancel=False)
    b.escalation_throw("reading_overdue_raised", "上报检测逾期", "reading_overdue", lane=LEADER)
    b.end("reading_overdue_reported", "已上报", lane=LEADER)
    b.script("reading_check", "判定定时检测", CS_CHECK % "periodic", lane=LEADER)
    b.xor("reading_gw", "定时检测合格?", default="Flow_reading_fail")
    b.script("next_reading", "安排下次检测",
             "next_reading_due = (now() + hours(reading_interval_hours)).isoformat()", lane=LEADER)
    b.script("suspend_alarm", "报警：停止作业", (
        "permit_status = 'suspended'\nsuspended_at = now().isoformat()\nsuspended_by = 'gas_alarm'"),
        lane=LEADER)
    b.script("suspend_stop", "停工指令：停止作业", (
        "permit_status = 'suspended'\nsuspended_at = now().isoformat()\nsuspended_by = 'stop_work'"),
        lane=LEADER)
    b.script("expire", "作业票到期", "permit_status = 'expired'\nsuspended_by = 'expired'", lane=LEADER)
    b.end("work_done", "全部撤出", lane=WORKER)
    b.end("work_long_break", "中断超时", lane=WORKER)
    b.end("reading_passed", "检测合格", lane=LEADER)
    b.end("work_evacuate", "撤离", lane=LEADER)

    b.chain("cs_working_start", "cs_work", "log", "work_gw")
    b.flow("work_gw", "work_done", condition="action == 'complete' and all_out", flow_id="Flow_cs_complete",
           name="全部撤出")
    b.flow("work_gw", "pause", condition="action == 'pause'", flow_id="Flow_cs_pause", name="中断")
    b.flow("work_gw", "cs_work", flow_id="Flow_cs_log", name="继续作业（未全部撤出不得验收）")
    b.chain("pause", "cs_resume_request", "interruption", "interrupt_gw")
    b.flow("interrupt_gw", "work_long_break", condition="interrupted_minutes > interruption_minutes",
           flow_id="Flow_cs_long_break", name="超过 60 分钟")
    b.flow("interrupt_gw", "work_resume", flow_id="Flow_cs_short_break", name="未超时")
    b.chain("work_resume", "cs_work")
    b.chain("reading_due", "cs_reading", "reading_check", "reading_gw")
    b.chain("reading_missed", "reading_overdue_raised", "reading_overdue_reported")
    b.flow("reading_gw", "next_reading", condition="gas_pass", flow_id="Flow_reading_ok", name="合格")
    b.flow("reading_gw", "suspend_alarm", flow_id="Flow_reading_fail", name="不合格：撤离")
    b.chain("next_reading", "reading_passed")
    b.chain("gas_alarm", "suspend_alarm", "work_evacuate")
    b.chain("stop_work", "suspend_stop", "work_evacuate")
    for suffix, _ in CS_PAUSED_STATES[:1]:
        b.chain(f"gas_alarm_{suffix}", "suspend_alarm")
        b.chain(f"stop_work_{suffix}", "suspend_stop")
    b.chain("expired", "expire", "work_evacuate")
    return b


def _confined_space_application() -> ProcessBuilder:
    """申请与审批: register, application (an unknown work-plan number goes back to it), the limits,
    isolation confirmed by the shift leader, then the unit's approval with the two-way SIMOPS check;
    退回 loops back to the application, the sub-process ends with the unit's ``decision``."""
    b = ProcessBuilder("cs_application", "受限空间申请与审批")
    b.lane(WORKER).lane(LEADER).lane(PRODUCTION)
    b.start("cs_application_start", "申请")
    b.script("init", "作业票登记", (
        "permit_status = 'applying'\npermit_expires_at = ''\nreadings = []\nentry_log = []\n"
        "people_inside = []\ntools_inside = 0\nsuspended_by = ''\n"
        "work_plan_ref = ''\nwork_plan_linked = False\nwork_started_at = ''\ngas_analysis_error = ''\n"
        "toxic_exceedances = ''\noel_standard = 'GBZ 2.1-2019'\nsimops_conflicts = []\nactive_permits_in_area = []\nsimops_refusal = ''\npainting_planned = False"),
        lane=WORKER)
    b.user("cs_apply", "受限空间作业申请", lane=WORKER, form="confined_space_application.json",
           props=APPLICANT_OVERRIDES)
    b.sub("cs_plan_check", "核对并关联作业计划", _confined_space_plan_check(), lane=WORKER)
    b.xor("plan_gw", "计划编号有效?", default="Flow_cs_plan_ok")
    b.sub("cs_rules", "受限空间限值与合格标准", _confined_space_rules(), lane=WORKER)
    b.user("cs_isolation", "隔离、清洗、置换确认", lane=LEADER, form="isolation_confirmation.json",
           props={"not_completed_by": "cs_apply"})
    b.sub("cs_review", "作业单位审批（交叉作业）", _confined_space_review(), lane=PRODUCTION)
    b.xor("review_gw", "审批结论", default="Flow_cs_review_rejected")
    # Validity counts from the issue, not from the entry (GB 30871 4.16).
    b.script("issue", "签发作业票", "permit_status = 'issued'\nissued_at = now().isoformat()\n"
             "permit_expires_at = (now() + hours(validity_hours)).isoformat()", lane=PRODUCTION)
    b.end("application_approved", "批准并签发", lane=PRODUCTION)
    b.end("application_rejected", "不同意", lane=PRODUCTION)
    b.chain("cs_application_start", "init", "cs_apply", "cs_plan_check", "plan_gw")
    b.flow("plan_gw", "cs_apply", condition="bool(work_plan_ref_error)", flow_id="Flow_cs_plan_bad",
           name="计划编号不存在，退回申请人")
    b.flow("plan_gw", "cs_rules", flow_id="Flow_cs_plan_ok")
    b.chain("cs_rules", "cs_isolation", "cs_review", "review_gw")
    b.flow("review_gw", "cs_apply", condition="decision == 'send_back'", flow_id="Flow_cs_send_back", name="退回")
    b.flow("review_gw", "issue", condition="decision == 'approve'", flow_id="Flow_cs_review_approved",
           name="同意")
    b.chain("issue", "application_approved")
    b.flow("review_gw", "application_rejected", flow_id="Flow_cs_review_rejected", name="不同意")
    return b


def _confined_space_plan_check() -> ProcessBuilder:
    """The work-plan reference of the application checked and linked (link_to_work_plan, as in
    hot work); an unknown number ends here with ``work_plan_ref_error`` and goes back to the applicant."""
    b = ProcessBuilder("cs_plan_check", "核对并关联作业计划")
    b.lane(WORKER)
    b.start("cs_plan_check_start", "已申请")
    b.end("cs_plan_checked", "计划已核对", lane=WORKER)
    b.end("cs_plan_ref_bad", "计划编号不存在", lane=WORKER)
    link_to_work_plan(b, "cs_plan_check_start", "cs_plan_checked", "confined_space_permit", WORKER,
                      back="cs_plan_ref_bad")
    return b


def _confined_space_rules() -> ProcessBuilder:
    b = ProcessBuilder("cs_rules", "受限空间限值与合格标准")
    b.lane(WORKER)
    b.start("cs_rules_start", "规则判定")
    b.business_rule("cs_limits", "受限空间限值", "confined_space_limits", lane=WORKER)
    b.business_rule("cs_gas_rule", "可燃气体合格标准", "gas_pass_threshold", lane=WORKER)
    b.business_rule("cs_toxic_limits", "有毒气体接触限值", "toxic_exposure_limits", lane=WORKER)
    b.end("cs_rules_end", "已判定", lane=WORKER)
    b.chain("cs_rules_start", "cs_limits", "cs_gas_rule", "cs_toxic_limits", "cs_rules_end")
    return b


def _confined_space_review() -> ProcessBuilder:
    """The unit's approval with the SIMOPS check (live hot work of the area; painting inside a space
    whose equipment has live hot work is refused, other cross-work needs a coordinator); a blocked
    approval goes round to the approval again; it ends with the ``decision``."""
    b = ProcessBuilder("cs_review", "作业单位审批")
    b.lane(PRODUCTION)
    b.start("cs_review_start", "审批")
    # The SIMOPS check from this side too: live hot work in the area (the hot-work review does the same).
    b.script("cs_painting", "空间内涂装?", (
        "try:\n    painting_planned = bool(painting_inside)\nexcept NameError:\n    painting_planned = False\n"
        # SpiffWorkflow merges a COLLECT table's output lists into the lists already in the data
        # (DeepMerge): after a send-back the table is evaluated again, so clear them first.
        "simops_permit_processes = []\nsimops_permit_reasons = []\nsimops_permit_painting_forbidden = []"),
        lane=PRODUCTION)
    b.business_rule("cs_simops_rule", "交叉作业票类别", "simops_confined_space", lane=PRODUCTION)
    b.script("cs_simops_lookup", "查询区域内在办作业票", CS_SIMOPS_LOOKUP, lane=PRODUCTION)
    b.user("cs_approval", "作业单位审批", lane=PRODUCTION, form="confined_space_review.json",
           props={"not_completed_by": "cs_apply", "priority": "70"})
    b.script("cs_simops_check", "交叉作业冲突检查", CS_SIMOPS_LOOKUP +  # again: a permit may have started meanwhile
             "simops_conflicts = active_permits_in_area\n" + SIMOPS_DECIDE, lane=PRODUCTION)
    b.xor("approval_gw", "审批结论", default="Flow_cs_reject")
    b.end("review_send_back", "退回", lane=PRODUCTION)
    b.end("review_approved", "同意", lane=PRODUCTION)
    b.end("review_rejected", "不同意", lane=PRODUCTION)
    b.chain("cs_review_start", "cs_painting", "cs_simops_rule", "cs_simops_lookup", "cs_approval", "cs_simops_check",
            "approval_gw")
    b.flow("approval_gw", "review_approved", condition="decision == 'approve' and not simops_blocked",
           flow_id="Flow_cs_approve", name="同意")
    b.flow("approval_gw", "cs_simops_lookup", condition="decision == 'approve' and simops_blocked",
           flow_id="Flow_cs_simops", name="标准禁止的交叉作业，或冲突无协调人")
    b.flow("approval_gw", "review_send_back", condition="decision == 'send_back'", flow_id="Flow_cs_review_send_back",
           name="退回")
    b.flow("approval_gw", "review_rejected", flow_id="Flow_cs_reject", name="不同意")
    return b


def _confined_space_pretest() -> ProcessBuilder:
    """进入前检测与确认: the gas test (O₂, combustibles, toxics, sample time) until it passes, the
    shift leader's site check, the pre-entry check (a stale sample is tested again, an expired
    permit ends), then the work starts (``permit_status`` 'active'). An alarm or a stop while
    waiting here suspends the permit and ends here for the evacuation on the main plane."""
    b = ProcessBuilder("cs_pretest", "进入前检测与确认")
    b.lane(WORKER).lane(LEADER)
    b.start("cs_pretest_start", "检测")
    b.user("cs_gas_test", "进入前气体检测", lane=LEADER, form="confined_space_gas_test.json",
           props={"not_completed_by": "cs_apply", "priority": "80"})
    b.script("gas_check", "判定检测结果", when_sample_time_ok(CS_CHECK % "pre_entry"), lane=LEADER)
    b.xor("gas_gw", "检测合格?", default="Flow_cs_gas_ok")
    b.user("cs_site_check", "进入前现场确认", lane=LEADER, form="confined_space_site_check.json",
           props={"due": "minutes(sample_max_age_minutes)"})
    b.script("start_check", "进入前检查（样品时效）", (
        "sample_age_minutes = (now() - parse_datetime(sampled_at)).total_seconds() / 60\n"
        "sample_fresh = sample_age_minutes <= sample_max_age_minutes\n"
        # The expiry timer watches the work task only: a permit paused or waiting for a re-test may run out.
        + PERMIT_VALID), lane=LEADER)
    b.xor("start_gw", "可以进入?", default="Flow_cs_enter")
    b.script("work_start", "开始/恢复作业", (
        "if not work_started_at:\n"
        "    work_started_at = now().isoformat()\n"
        "next_reading_due = (now() + hours(reading_interval_hours)).isoformat()\n"
        "permit_status = 'active'"), lane=WORKER)
    b.script("suspend_alarm_waiting", "报警：停止作业", (
        "permit_status = 'suspended'\nsuspended_at = now().isoformat()\nsuspended_by = 'gas_alarm'"),
        lane=LEADER)
    b.script("suspend_stop_waiting", "停工指令：停止作业", (
        "permit_status = 'suspended'\nsuspended_at = now().isoformat()\nsuspended_by = 'stop_work'"),
        lane=LEADER)
    b.script("expire_at_entry", "作业票到期", "permit_status = 'expired'\nsuspended_by = 'expired'", lane=LEADER)
    b.end("pretest_entered", "已进入", lane=WORKER)
    b.end("pretest_evacuate", "撤离", lane=LEADER)
    # Waiting for a (re-)test or the site check the permit is still live: an alarm or a stop must
    # reach it there too, or a stop during the re-test would be lost and people could re-enter.
    for suffix, task_id in CS_PAUSED_STATES[1:]:
        b.message_boundary(f"gas_alarm_{suffix}", "气体报警", task_id, "gas_alarm")
        b.message_boundary(f"stop_work_{suffix}", "停工指令", task_id, "stop_work", props=BY_EQUIPMENT)
        b.chain(f"gas_alarm_{suffix}", "suspend_alarm_waiting")
        b.chain(f"stop_work_{suffix}", "suspend_stop_waiting")
    b.chain("cs_pretest_start", "cs_gas_test", "gas_check", "gas_gw")
    b.flow("gas_gw", "cs_gas_test", condition="not gas_pass", flow_id="Flow_cs_gas_fail",
           name="不合格或检测时间无效，重新检测")
    b.flow("gas_gw", "cs_site_check", flow_id="Flow_cs_gas_ok", name="合格")
    b.chain("cs_site_check", "start_check", "start_gw")
    b.flow("start_gw", "expire_at_entry", condition="not permit_valid", flow_id="Flow_cs_start_expired",
           name="作业票已过期")
    b.flow("start_gw", "cs_gas_test", condition="permit_valid and not sample_fresh", flow_id="Flow_cs_stale",
           name="超过 30 分钟，重新检测")
    b.flow("start_gw", "work_start", flow_id="Flow_cs_enter", name="进入")
    b.chain("work_start", "pretest_entered")
    b.chain("suspend_alarm_waiting", "pretest_evacuate")
    b.chain("suspend_stop_waiting", "pretest_evacuate")
    b.chain("expire_at_entry", "pretest_evacuate")
    return b


BPMN["confined_space_permit.bpmn"] = confined_space_permit()


# =========================================================================== alarm_permit_suspension

# Which live permits a sensor alarm suspends (issue 14 §3), read by the alarm path (engine/iot/suspension.py):
# a gas alarm (red: a permit's pass threshold breached, or level 2 with people in a confined space)
# the hot-work and confined-space permits of the area, and the temporary-power and blinding permits in
# fire/explosion areas (where GB 30871-2022 asks a gas analysis for them); wind at or above the limit
# the lifting and work-at-height permits of the area. alarm_limit: the reading at or above which the
# message goes (wind, m/s; 0 = the alert's grading decides). Default 10.8 m/s, where the Beaufort
# scale's force 6 starts (force 5: 8.0-10.7 m/s), as issue 14 asks; a plant that reads "五级以上" as
# force 5 included sets 8.0 here.
ALARM_KINDS = ['"gas"', '"wind"']
EXPLOSIVE = '? in ("fire_explosion", "major_hazard_tank_farm")'
DMN["alarm_permit_suspension.dmn"] = dmn(
    "alarm_permit_suspension", "传感器报警暂停作业票（报警类别 × 作业票类别 × 区域类别）",
    [{"label": "报警类别", "expr": "alarm_kind", "type": "string", "values": ALARM_KINDS},
     {"label": "作业票类别", "expr": "permit_type", "type": "string", "values": [f'"{k}"' for k, _ in PERMIT_KINDS]},
     {"label": "区域类别", "expr": "area_class", "type": "string", "values": AREA_CLASS_VALUES}],
    [("发给作业票的消息（空 = 不暂停）", "suspend_message", "string"),
     ("报警限值（风速 m/s；0 = 按预警分级）", "alarm_limit", "number")],
    [(['"gas"', '"hot_work"', "-"], ['"gas_alarm"', "0"], "动火：任何区域气体报警即停止作业（5.3）"),
     (['"gas"', '"confined_space"', "-"], ['"gas_alarm"', "0"], "受限空间：报警即撤离（6.5）"),
     (['"gas"', '"temp_power"', EXPLOSIVE], ['"gas_alarm"', "0"], "临时用电：火灾爆炸危险场所气体报警停止作业"),
     (['"gas"', '"blinding"', EXPLOSIVE], ['"gas_alarm"', "0"], "盲板抽堵：火灾爆炸危险场所气体报警停止作业"),
     (['"wind"', '"lifting"', "-"], ['"wind_alarm"', "10.8"], "吊装：风速达到限值停止吊装（默认 10.8 m/s，可配置）"),
     (['"wind"', '"height"', "-"], ['"wind_alarm"', "10.8"], "高处作业：风速达到限值停止作业（默认 10.8 m/s，可配置）"),
     (["-", "-", "-"], ['""', "0"], "其他：不暂停")],
    hit_policy="FIRST")


# =========================================================================== alert_response

GRADES = ['"red"', '"orange"', '"yellow"', '"blue"']
# The one place of deadlines and owners by grade: alert_response evaluates this table, and the IoT
# alert rows (deadline_at, owner_department) read the same table (engine/iot/policy.py).
# owner_department '@area' means the department the alert's area belongs to.
DMN["alert_policy.dmn"] = dmn(
    "alert_policy", "预警分级处置要求（四色预警）",
    [{"label": "预警等级", "expr": "alert_grade", "type": "string", "values": GRADES}],
    [("等级名称", "grade_name", "string"), ("开始处置时限（分钟）", "deadline_minutes", "number"),
     ("多部门协同", "coordinated", "boolean"), ("须复盘", "review_required", "boolean"),
     ("协同的设备部门（编码）", "maintenance_department", "string"),
     ("责任部门（编码；@area = 区域所属部门）", "owner_department", "string")],
    [(['"red"'], ['"红色"', "15", "True", "True", '"maintenance"', '"safety"'],
      "红色：15 分钟内开始处置，生产、设备、监督、应急协同，停止区域内作业；安全部门负责"),
     (['"orange"'], ['"橙色"', "60", "False", "True", '"maintenance"', '"safety"'], "橙色：1 小时；安全部门负责"),
     (['"yellow"'], ['"黄色"', "240", "False", "False", '"maintenance"', '"@area"'], "黄色：4 小时；区域所属部门负责"),
     (['"blue"'], ['"蓝色"', "1440", "False", "False", '"maintenance"', '"maintenance"'],
      "蓝色：24 小时（趋势预警、传感器故障）；设备部门负责")])

FORMS["alert_disposal.json"] = form("预警处置记录", {
    "cause_found": text("原因初判", min_length=0),
    "measures": text("处置措施", min_length=2),
    "result": choice("处置结果", [("eliminated", "已消除"), ("controlled", "已控制，持续监测"),
                                  ("false_alarm", "误报（注明依据）")]),
    "handled_at": when("处置完成时间"),
    "handler": text("处置人"),
}, ["measures", "result", "handled_at", "handler"])

FORMS["alert_production_action.json"] = form("红色预警：生产处置", {
    "production_measures": {"type": "array", "title": "工艺处置措施", "minItems": 1, "uniqueItems": True,
                            "items": choice("措施", [("reduce_load", "降负荷"), ("shutdown", "紧急停车"),
                                                      ("isolate", "切断物料"), ("none", "无需工艺调整")])},
    "people_evacuated": flag("区域人员已撤离"),
    "note": text("说明", min_length=0),
}, ["production_measures", "people_evacuated"])

FORMS["alert_maintenance_action.json"] = form("红色预警：设备处置", {
    "leak_point": text("泄漏点/故障点", min_length=2),
    "isolation_done": flag("已隔离"),
    "repair_status": choice("修复状态", [("repaired", "已修复"), ("temporary", "临时处理"), ("pending", "待修复")]),
}, ["leak_point", "isolation_done", "repair_status"])

FORMS["alert_supervision_action.json"] = form("红色预警：现场监督", {
    "work_stopped_confirmed": {"type": "boolean", "const": True, "title": "已确认区域内作业全部停止"},
    "permits_suspended": flag("区域内作业票已暂停"),
    "site_findings": text("现场情况", min_length=2),
}, ["work_stopped_confirmed", "site_findings"])

FORMS["alert_emergency_action.json"] = form("红色预警：应急响应", {
    "team_dispatched": {"type": "boolean", "const": True, "title": "应急队伍已到场"},
    "cordon_set": flag("已设置警戒"),
    "casualties": number("伤亡人数", "人", minimum=0, integer=True),
    "note": text("说明", min_length=0),
}, ["team_dispatched", "cordon_set", "casualties"])

FORMS["alert_review.json"] = form("预警复盘", {
    "causes": {"type": "array", "title": "原因分析", "minItems": 1, "items": text("原因")},
    "improvement_actions": {"type": "array", "title": "改进措施（将作为督办事项跟踪）", "items": {
        "type": "object", "title": "改进措施", "required": ["action", "owner_department"],
        "additionalProperties": False, "properties": {
            "action": text("措施", min_length=2),
            "owner_department": text("责任部门（编码）"),
            "deadline": when("完成期限")}}},
    "lessons": text("经验教训", min_length=2),
}, ["causes", "improvement_actions", "lessons"])

RED_TASKS = [("al_production", "红色预警：生产处置", PRODUCTION, "alert_production_action.json"),
             ("al_maintenance", "红色预警：设备处置", MAINTENANCE, "alert_maintenance_action.json"),
             ("al_supervision", "红色预警：现场监督", SUPERVISION, "alert_supervision_action.json"),
             ("al_emergency", "红色预警：应急响应", EMERGENCY, "alert_emergency_action.json")]


def alert_response() -> str:
    """预警处置: a short main path whose phases are collapsed sub-processes (a designer drills down):
    按等级确定处置要求 (the policy table and the register, entered again when the alert escalates),
    红色预警协同处置 (the four coordinated tasks and their record) and 预警复盘 (timeline, review,
    improvement actions tracked). The single-department handling keeps its deadline timer and its
    escalation message on the main plane: the escalation loops back to the grading, and an
    interrupting boundary event on a sub-process would carry the data of the sub-process's start."""
    b = ProcessBuilder("alert_response", "预警处置")
    b.lane(PRODUCTION).lane(SUPERVISION)
    # The alert's payload lands in the variable `alert`; its scope (area, department) comes from the
    # message's correlation values, which the start event declares as its start variables.
    b.start("start", "收到预警", message="alert", variables=["area", "department"])
    # What the process uses of the payload, copied here where the diagram says so.
    b.script("receive", "接收预警", (
        "alert_grade = alert['alert_grade']\n"
        "alert_id = alert.get('alert_id')\n"
        "description = alert.get('description') or ''\n"
        "reading = alert.get('reading')\n"
        "source = alert.get('source') or ''\n"
        "try:\n    department\nexcept NameError:\n    department = None\n"
        "area_department = alert.get('area_department') or department"), lane=SUPERVISION)
    b.sub("al_grading", "按等级确定处置要求并登记", _alert_grading(), lane=SUPERVISION)
    b.xor("coordinated_gw", "多部门协同?", default="Flow_alert_single")
    b.message_throw("stop_area", "停止区域内作业", "stop_work", lane=SUPERVISION,
                    payload="{'stop_area': area, 'stop_scope': 'area', 'stop_equipment_id': None, "
                            "'stop_reason': grade_name + '预警：' + description, 'correlation': {'area': area}}")
    b.sub("al_red", "红色预警协同处置", _alert_red(), lane=SUPERVISION)
    b.user("al_handle", "预警处置", lane=PRODUCTION, form="alert_disposal.json",
           props={"due": "parse_datetime(handling_deadline)", "priority": "80"})
    b.timer_boundary("al_overdue", "处置超时", "al_handle", "date", "handling_deadline")
    # The alert's grade rose while it is being handled: the payload (in the variable alert_escalated)
    # carries the new grade; the policy table gives the new deadline and owner, and a red grade raises
    # the coordinated tasks.
    b.message_boundary("al_regrade", "预警升级", "al_handle", "alert_escalated")
    b.script("regrade", "按新等级重新登记", (
        "try:\n    escalations\nexcept NameError:\n    escalations = []\n"
        "escalations = escalations + [{'at': now().isoformat(), 'from': alert_grade,\n"
        "                              'to': alert_escalated['escalated_grade']}]\n"
        "alert_grade = alert_escalated['escalated_grade']"),
             lane=SUPERVISION)
    b.call("al_escalate", "预警处置督办", "three_level_supervision", lane=PRODUCTION,
           pre_script="duty_type = 'alert_disposal'\nduty_title = '预警处置：' + description")
    b.xor("review_gw", "须复盘?", default="Flow_no_review")
    b.sub("al_review_phase", "预警复盘与改进措施督办", _alert_review(), lane=SUPERVISION)
    b.script("close", "关闭预警", "alert_status = 'closed'\nclosed_at = now().isoformat()", lane=SUPERVISION)
    b.end("end", "预警关闭", terminate=True, lane=SUPERVISION)

    b.chain("start", "receive", "al_grading", "coordinated_gw")
    b.flow("coordinated_gw", "stop_area", condition="coordinated", flow_id="Flow_alert_red", name="红色：协同处置")
    b.flow("coordinated_gw", "al_handle", flow_id="Flow_alert_single", name="归属部门处置")
    b.chain("stop_area", "al_red", "review_gw")
    b.chain("al_handle", "review_gw")
    b.chain("al_overdue", "al_escalate", "review_gw")
    b.chain("al_regrade", "regrade")
    b.flow("regrade", "al_grading", name="按新等级重新确定")
    b.flow("review_gw", "al_review_phase", condition="review_required", flow_id="Flow_review", name="橙色、红色：复盘")
    b.flow("review_gw", "close", flow_id="Flow_no_review", name="不复盘")
    b.chain("al_review_phase", "close", "end")
    return b.to_xml()


def _alert_grading() -> ProcessBuilder:
    """The policy table by grade and the register (deadline, owner); entered on receipt and again
    when the alert escalates."""
    b = ProcessBuilder("al_grading", "按等级确定处置要求并登记")
    b.lane(SUPERVISION)
    b.start("al_grading_start", "预警等级")
    b.business_rule("policy", "按等级确定处置要求", "alert_policy", lane=SUPERVISION)
    # Also entered again when the alert escalates (al_regrade): the first receipt time is kept and the
    # deadline only ever moves earlier (the alert row does the same).
    b.script("register", "登记预警", (
        "if not description:\n    description = grade_name + '预警'\n"
        "if owner_department == '@area':\n    owner_department = area_department\n"
        "try:\n    received_at\nexcept NameError:\n    received_at = now().isoformat()\n"
        "new_deadline = now() + minutes(deadline_minutes)\n"
        "try:\n    earlier = parse_datetime(handling_deadline)\nexcept NameError:\n    earlier = None\n"
        "if earlier is not None and earlier < new_deadline:\n    new_deadline = earlier\n"
        "handling_deadline = new_deadline.isoformat()\n"
        "alert_status = 'open'"), lane=SUPERVISION)
    b.end("al_registered", "已登记", lane=SUPERVISION)
    b.chain("al_grading_start", "policy", "register", "al_registered")
    return b


def _alert_red() -> ProcessBuilder:
    """Red: the four coordinated tasks at once, then supervision's record of the disposal."""
    b = ProcessBuilder("al_red", "红色预警协同处置")
    b.lane(PRODUCTION).lane(MAINTENANCE).lane(SUPERVISION).lane(EMERGENCY)
    b.start("al_red_start", "红色预警")
    b.parallel("fork", "同时派发")
    b.parallel("join", "全部完成")
    for tid, name, lane, form_name in RED_TASKS:
        # The maintenance task belongs to the maintenance department (cross-department coordination);
        # supervision and emergency see every department.
        b.user(tid, name, lane=lane, form=form_name,
               props={"due": "parse_datetime(handling_deadline)", "priority": "99"},
               pre_script="department = maintenance_department" if tid == "al_maintenance" else None)
    b.user("al_close_red", "红色预警处置记录", lane=SUPERVISION, form="alert_disposal.json", props={"priority": "90"})
    b.end("al_red_done", "协同处置完成", lane=SUPERVISION)
    b.chain("al_red_start", "fork")
    for tid, *_ in RED_TASKS:
        b.chain("fork", tid, "join")
    b.chain("join", "al_close_red", "al_red_done")
    return b


def _alert_review() -> ProcessBuilder:
    """Orange and red: the timeline archived, the review, and each improvement action tracked as a
    duty (a multi-instance call of three_level_supervision)."""
    b = ProcessBuilder("al_review_phase", "预警复盘与改进措施督办")
    b.lane(SUPERVISION)
    b.start("al_review_start", "须复盘")
    b.script("archive", "归档处置时间线", (
        # handled_at is the handler's entry; escalated without one, the review starts now
        "try:\n    handled_time = handled_at\nexcept NameError:\n    handled_time = now().isoformat()\n"
        "review_timeline = [{'at': received_at, 'event': '收到' + grade_name + '预警', 'reading': reading},\n"
        "                   {'at': handling_deadline, 'event': '处置时限'},\n"
        "                   {'at': handled_time, 'event': '处置完成'}]\n"
        "del handled_time"), lane=SUPERVISION)
    b.user("al_review", "预警复盘", lane=SUPERVISION, form="alert_review.json", props={"priority": "60"})
    b.xor("actions_gw", "有改进措施?", default="Flow_no_actions")
    b.script("to_duties", "改进措施转为督办事项", (
        "tracked_duties = [{'duty_type': 'improvement_action', 'duty_title': a['action'],\n"
        "                   'department': a['owner_department']} for a in improvement_actions]"), lane=SUPERVISION)
    b.call("al_track", "改进措施督办", "three_level_supervision", lane=SUPERVISION, each=("tracked_duties", "duty"))
    b.end("al_reviewed", "复盘完成", lane=SUPERVISION)
    b.chain("al_review_start", "archive", "al_review", "actions_gw")
    b.flow("actions_gw", "to_duties", condition="len(improvement_actions) > 0", flow_id="Flow_actions",
           name="跟踪改进措施")
    b.flow("actions_gw", "al_reviewed", flow_id="Flow_no_actions")
    b.chain("to_duties", "al_track", "al_reviewed")
    return b


BPMN["alert_response.bpmn"] = alert_response()


# =========================================================================== write

def _permit_modules() -> None:
    """The other special operations of GB 30871, one module each (``bpmn/tools/permit_<kind>.py``).

    Each module defines ``add(bpmn, dmn, forms)`` that puts its diagram, decision tables and forms
    into the dicts above; they are loaded here, after every shared lane and helper is defined.
    """
    import importlib
    for path in sorted(Path(__file__).resolve().parent.glob("permit_*.py")):
        importlib.import_module(path.stem).add(BPMN, DMN, FORMS)


_permit_modules()


def main() -> None:
    # The builder's own DI is a placeholder; every diagram is laid out by ELK (bpmn/tools/relayout.py,
    # needs node and `npm ci` in bpmn/tools/layout), which replaces only the bpmndi part.
    from relayout import relayout
    laid_out = {name: relayout(xml) for name, xml in BPMN.items()}
    for folder, files in ((ROOT / "bpmn", {**laid_out, **DMN}), (ROOT / "forms", FORMS)):
        folder.mkdir(exist_ok=True)
        for name, content in files.items():
            (folder / name).write_text(content, encoding="utf-8")
    print(f"wrote {len(BPMN)} diagrams, {len(DMN)} decision tables, {len(FORMS)} forms")


if __name__ == "__main__":
    main()
