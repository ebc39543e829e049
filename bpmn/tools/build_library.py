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
    b.start("start", "事项逾期")
    b.business_rule("intervals", "确定督办时限", "escalation_intervals", lane=PRODUCTION)
    b.script("level1", "一级督办：提醒责任岗位",
             "escalation_started_at = now().isoformat()\nescalation_level = 1", lane=PRODUCTION)
    b.user("duty", "落实督办事项", lane=PRODUCTION, form="duty_completion.json",
           props={"due": "hours(t1_hours)", "priority": "70"})
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
    b.chain("start", "intervals", "level1", "duty", "close", "end")
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


def stop_restart() -> str:
    b = ProcessBuilder("stop_restart", "停工复工")
    b.lane(SUPERVISION).lane(PRODUCTION)
    b.start("start", "一键停工")
    b.script("register", "停工登记", (
        "if stop_scope not in ('area', 'equipment'):\n"
        "    raise ValueError('stop_scope must be area or equipment')\n"
        "stopped_at = now().isoformat()\n"
        "work_status = 'stopped'"), lane=SUPERVISION)
    b.message_throw("send_stop", "向范围内作业许可下达停工", "stop_work", lane=SUPERVISION,
                    payload="{'area': area, 'scope': stop_scope, 'equipment_id': equipment_id, "
                            "'reason': stop_reason, 'stop_ref': business_key_ref}")
    b.parallel("fork", "并行")
    b.service("notify", "通知相关部门", "notify/people",
              {"recipients": "['production:' + department, 'supervision', 'maintenance', 'emergency']",
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
                    payload="{'area': area, 'scope': stop_scope, 'equipment_id': equipment_id, "
                            "'stop_ref': business_key_ref}")
    b.end("end", "已复工", terminate=True, lane=SUPERVISION)
    b.chain("start", "register", "send_stop", "fork")
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
    "found_at": when("发现时间"),
    "reported_level": choice("初判等级", [("general", "一般隐患"), ("major", "重大隐患")]),
}, ["location", "description", "found_at", "reported_level"])

FORMS["hazard_classification.json"] = form("隐患分级与指派", {
    "hazard_level": choice("隐患等级", [("general", "一般隐患：能立即或由基层单位整改"),
                                       ("major", "重大隐患：需停产或较长时间整改、或企业自身难以排除")]),
    "responsible_department": text("责任部门（编码）", examples=["workshop-1", "storage", "maintenance"]),
    "deadline": when("整改期限"),
    "fixable_at_once": flag("能否立即整改"),
    "production_stop_required": flag("是否需要停产整改"),
    "basis": text("分级依据", min_length=0),
}, ["hazard_level", "responsible_department", "deadline", "fixable_at_once", "production_stop_required"])

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
    b = ProcessBuilder("hazard_rectification", "隐患整改")
    b.lane(WORKER).lane(SUPERVISION).lane(PRODUCTION).lane(LEADER_IN_CHARGE)
    b.start("start", "发现隐患")
    b.user("report", "隐患上报", lane=WORKER, form="hazard_report.json")
    b.user("classify", "隐患分级与指派", lane=SUPERVISION, form="hazard_classification.json",
           props={"due": "PT24H", "priority": "70"})
    b.script("assign", "指派责任部门", (
        "department = responsible_department\n"
        "duty_type = 'hazard_rectification'\n"
        "duty_title = '隐患整改：' + location\n"
        "hazard_status = 'assigned'"), lane=SUPERVISION)
    b.xor("level_gw", "隐患等级?", default="Flow_general_later")
    b.user("plan", "制定重大隐患治理方案", lane=PRODUCTION, form="major_hazard_plan.json")
    b.user("plan_approval", "治理方案审批", lane=LEADER_IN_CHARGE, form="approval.json",
           props={"not_completed_by": "plan", "priority": "80"})
    b.xor("plan_gw", "方案批准?", default="Flow_plan_rejected")
    b.script("plan_deadline_set", "按方案确定整改期限", "deadline = plan_deadline", lane=LEADER_IN_CHARGE)
    b.xor("stop_gw", "需要停产?", default="Flow_no_stop")
    b.script("prepare_stop", "准备停产", (
        "stop_scope = 'area'\nequipment_id = None\n"
        "stop_reason = '重大隐患停产整改：' + description\n"
        "business_key_ref = duty_title"), lane=PRODUCTION)
    b.call("stop_restart", "停产整改与复工", "stop_restart", lane=PRODUCTION)
    b.user("interim", "落实临时管控措施", lane=PRODUCTION, form="interim_measures.json",
           props={"due": "PT8H"})
    b.user("rectify", "隐患整改", lane=PRODUCTION, form="rectification.json",
           props={"due": "parse_datetime(deadline)", "priority": "70"})
    b.timer_boundary("overdue", "整改逾期", "rectify", "date", "deadline")
    b.call("escalate", "三级督办", "three_level_supervision", lane=PRODUCTION)
    b.user("verify", "整改验收", lane=SUPERVISION, form="rectification_verification.json",
           props={"not_completed_by": "report", "priority": "70"})
    b.xor("verify_gw", "验收通过?", default="Flow_sent_back")
    b.script("close", "验收销号", (
        "closed_at = now().isoformat()\n"
        "closed_on_time = parse_datetime(closed_at) <= parse_datetime(deadline)\n"
        "hazard_status = 'closed'"), lane=SUPERVISION)
    b.end("end", "已销号", lane=SUPERVISION)
    b.chain("start", "report", "classify", "assign", "level_gw")
    b.flow("level_gw", "plan", condition="hazard_level == 'major'", flow_id="Flow_major", name="重大隐患")
    b.flow("level_gw", "rectify", condition="hazard_level == 'general' and fixable_at_once",
           flow_id="Flow_general_now", name="一般隐患，立即整改")
    b.flow("level_gw", "interim", flow_id="Flow_general_later", name="一般隐患，限期整改")
    b.chain("plan", "plan_approval", "plan_gw")
    b.flow("plan_gw", "plan_deadline_set", condition="approved == True", flow_id="Flow_plan_ok")
    b.flow("plan_gw", "plan", flow_id="Flow_plan_rejected", name="退回修改")
    b.chain("plan_deadline_set", "stop_gw")
    b.flow("stop_gw", "prepare_stop", condition="production_stop_required == True", flow_id="Flow_stop",
           name="停产整改")
    b.flow("stop_gw", "interim", flow_id="Flow_no_stop", name="不停产")
    b.chain("prepare_stop", "stop_restart", "verify")
    b.chain("interim", "rectify", "verify", "verify_gw")
    b.chain("overdue", "escalate", "verify")
    b.flow("verify_gw", "close", condition="accepted == True", flow_id="Flow_accepted")
    b.flow("verify_gw", "rectify", flow_id="Flow_sent_back", name="退回重新整改")
    b.chain("close", "end")
    return b.to_xml()


BPMN["hazard_rectification.bpmn"] = hazard_rectification()


# =========================================================================== work_plan

OPERATION_KINDS = [("hot_work", "动火作业"), ("confined_space", "受限空间作业"), ("blinding", "盲板抽堵作业"),
                   ("height", "高处作业"), ("lifting", "吊装作业"), ("temp_power", "临时用电作业"),
                   ("excavation", "动土作业"), ("road_closure", "断路作业"), ("maintenance", "检维修作业"),
                   ("routine", "常规生产作业")]
AREA_CLASSES = [("fire_explosion", "甲乙类火灾爆炸危险区域"), ("major_hazard_tank_farm", "重大危险源罐区"),
                ("pipe_rack", "管廊"), ("general", "一般区域")]
SPECIAL_OPERATIONS = OPERATION_KINDS[:8]
AREAS = ['"unit-1"', '"tank-farm-3"', '"pipe-rack-a"', '"warehouse"']

FORMS["work_plan.json"] = form("作业计划", {
    "plan_period": choice("计划类型", [("daily", "日计划"), ("weekly", "周计划"), ("monthly", "月计划")]),
    "content": text("作业内容", min_length=2),
    "operation_kind": choice("主要作业类别（风险最高者）", OPERATION_KINDS),
    "area_class": choice("作业区域类别", AREA_CLASSES),
    "workers": people("作业人员"),
    "window_start": when("作业开始时间"),
    "window_end": when("作业结束时间"),
    "risk_points": {"type": "array", "title": "风险点", "minItems": 1, "items": text("风险点描述")},
    "special_operations": {"type": "array", "title": "计划中的特殊作业", "uniqueItems": True,
                           "items": choice("特殊作业类别", SPECIAL_OPERATIONS)},
    "at_night": flag("夜间作业"),
    "on_holiday": flag("节假日或休息日作业"),
}, ["plan_period", "content", "operation_kind", "area_class", "workers", "window_start", "window_end",
    "risk_points", "at_night", "on_holiday"])

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


def work_plan() -> str:
    b = ProcessBuilder("work_plan", "作业计划与监督计划")
    b.lane(PRODUCTION).lane(SUPERVISION)
    b.start("start", "编制作业计划")
    b.script("init", "计划登记", "plan_revision = 0", lane=PRODUCTION)
    b.user("submit_plan", "提交作业计划", lane=PRODUCTION, form="work_plan.json")
    b.script("prepare", "校验作业时间窗", (
        "if parse_datetime(window_end) <= parse_datetime(window_start):\n"
        "    raise ValueError('作业结束时间必须晚于开始时间')\n"
        "time_upgrade = bool(at_night or on_holiday)\n"
        "plan_revision = plan_revision + 1"), lane=PRODUCTION)
    b.business_rule("grade", "作业风险分级", "work_risk_grading", lane=PRODUCTION)
    b.business_rule("responsible", "查区域责任清单", "area_responsibility", lane=SUPERVISION)
    b.script("schedule", "生成监督计划（时间窗内）", (
        "ws = parse_datetime(window_start)\n"
        "we = parse_datetime(window_end)\n"
        "step = hours(check_interval_hours)\n"
        "supervision_checks = []\n"
        "t = ws\n"
        "while t < we and len(supervision_checks) < max_checks:\n"
        "    supervision_checks.append(t.isoformat())\n"
        "    t = t + step\n"
        "supervision_cycle = 'R' + str(len(supervision_checks)) + '/' + ws.isoformat() + '/PT' + "
        "str(check_interval_hours) + 'H'\n"
        "del ws, we, step, t"), lane=SUPERVISION)
    b.user("execute", "作业计划执行", lane=PRODUCTION, form="plan_execution.json")
    b.timer_boundary("check_due", "监督检查时间到", "execute", "cycle", "supervision_cycle", cancel=False)
    b.user("supervision_check", "现场监督检查", lane=SUPERVISION, form="supervision_check.json",
           props={"due": "hours(check_interval_hours)", "priority": "60"})
    b.end("check_done", "检查完成", lane=SUPERVISION)
    b.xor("change_gw", "计划变更?", default="Flow_plan_done")
    b.user("change_plan", "变更作业计划", lane=PRODUCTION, form="work_plan.json")
    b.script("close", "关闭作业计划", "plan_closed_at = now().isoformat()", lane=PRODUCTION)
    b.end("end", "计划关闭", terminate=True, lane=PRODUCTION)
    b.chain("start", "init", "submit_plan", "prepare", "grade", "responsible", "schedule", "execute", "change_gw")
    b.chain("check_due", "supervision_check", "check_done")
    b.flow("change_gw", "change_plan", condition="action == 'change'", flow_id="Flow_plan_change", name="变更")
    b.flow("change_gw", "close", flow_id="Flow_plan_done", name="完成")
    b.chain("change_plan", "prepare")
    b.chain("close", "end")
    return b.to_xml()


BPMN["work_plan.bpmn"] = work_plan()


# =========================================================================== write

def main() -> None:
    for folder, files in ((ROOT / "bpmn", {**BPMN, **DMN}), (ROOT / "forms", FORMS)):
        folder.mkdir(exist_ok=True)
        for name, content in files.items():
            (folder / name).write_text(content, encoding="utf-8")
    print(f"wrote {len(BPMN)} diagrams, {len(DMN)} decision tables, {len(FORMS)} forms")


if __name__ == "__main__":
    main()
