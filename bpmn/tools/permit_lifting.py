"""吊装安全作业票 (lifting, GB 30871-2022 chapter 9): ``lifting_permit``.

Grade by the load: 一级 > 100 t, 二级 40–100 t, 三级 < 40 t; below 10 t no permit is needed, but the
job's risk analysis is still confirmed by production. A lifting plan is required from 40 t, and for
a smaller load of complex shape or in special conditions; without one, or with a load above the
crane's rated capacity, the application goes back to the applicant. Approver by grade: the
specialist department (二级, 三级), the plant leader in charge (一级). Wind at or above the DMN limit
(``wind_limits``) keeps the lift from starting; a ``wind_alarm`` of the area suspends it.
"""
from __future__ import annotations

from build_library import PRODUCTION, WORKER, dmn, flag, form, number, people, text, when
from special_ops import PLAN_REF_FIELDS, PermitSpec, build, work_form

DOC = (
    "吊装安全作业票（GB 30871-2022 第 9 章）。分级按吊物质量 m：m > 100 t 一级，40 t ≤ m ≤ 100 t 二级，m < 40 t 三级；"
    "m < 10 t 不办作业票，但仍须作业危害分析并由生产单位确认（企业默认，可配置）。一级、二级吊装及形状复杂、"
    "刚度小、长径比大、精密贵重或作业条件特殊的吊装应编制吊装方案并经审批（9 章），未提供方案编号或吊物超过"
    "起重机械额定起重量时退回申请人（lifting_plan_error）。审批：作业单位，二、三级报专业管理部门，一级再报主管"
    "领导；审批人到现场（4.11），每一级与前面各级、申请人不是同一人。有效期自签发起算（4.16），标准未规定吊装"
    "作业票有效期，默认 24 h 为企业惯例。作业前现场确认：起重机械及安全装置检查合格、吊索具合格、指挥和司索人员"
    "持证到位、警戒区内无人、地基承载、吊装方案措施落实、监护人在岗（4.10）；风力达到 wind_limits.dmn 限值（默认 6 级）"
    "不得吊装，区域大风报警（wind_alarm）暂停作业票。停工指令（stop_work）在每个在办状态暂停作业票。"
    "全部数值为 lifting_grade.dmn、wind_limits.dmn 中的可配置默认值。")

FORMS = {}
FORMS["lifting_application.json"] = form("吊装安全作业票申请", {
    "work_content": text("吊装内容", min_length=2),
    "location_detail": text("吊装地点", min_length=2),
    "equipment_id": text("设备位号（按设备停工时据此通知）", min_length=0),
    **PLAN_REF_FIELDS,
    "load_name": text("吊物名称"),
    "load_t": number("吊物质量（含吊索具）", "吨", minimum=0),
    "complex_load": flag("形状复杂、刚度小、长径比大、精密贵重，或作业条件特殊",
                         description="不足 40 t 时也须编制吊装方案"),
    "crane": text("起重机械（型号、编号）", min_length=2),
    "crane_capacity_t": number("作业工况下额定起重量", "吨", minimum=0),
    "lifting_plan_ref": text("吊装方案编号（已审批）", min_length=0, max_length=200),
    "lifting_plan_error": text("吊装方案核对结果", min_length=0, readOnly=True),
    "commander": text("指挥人员（持证）"),
    "operator": text("起重机械司机（持证）"),
    "riggers": people("司索人员"),
    "monitor": text("监护人"),
    "outdoors": flag("露天作业"),
    "planned_start": when("计划开始时间"),
    "planned_end": when("计划结束时间"),
    "hazards": {"type": "array", "title": "作业危害分析：危害因素", "minItems": 1, "items": text("危害因素")},
    "control_measures": {"type": "array", "title": "安全措施", "minItems": 1, "items": text("措施")},
    "briefing_done": flag("已进行安全交底（4.4）"),
}, ["work_content", "location_detail", "load_name", "load_t", "complex_load", "crane", "crane_capacity_t",
    "commander", "operator", "riggers", "monitor", "outdoors", "planned_start", "hazards", "control_measures",
    "briefing_done"],
    "GB 30871-2022 第 9 章")

FORMS["lifting_risk_confirmation.json"] = form("吊装作业危害分析确认（免办作业票）", {
    "risk_analysis_confirmed": {"type": "boolean", "const": True, "title": "作业危害分析及安全措施已审查，可以作业"},
    "on_site": flag("已到作业现场"),
    "comment": text("意见", min_length=0),
}, ["risk_analysis_confirmed"])

FORMS["lifting_site_check.json"] = form("吊装作业现场确认（当班班长）", {
    "permit_checked": {"type": "boolean", "const": True, "title": "作业票有效、内容与现场一致"},
    "crane_inspected": {"type": "boolean", "const": True, "title": "起重机械检查合格，限位、力矩限制等安全装置有效"},
    "rigging_checked": {"type": "boolean", "const": True, "title": "吊索具检查合格"},
    "crew_certified": {"type": "boolean", "const": True, "title": "指挥、司机、司索人员持证到位，信号统一"},
    "area_cordoned": {"type": "boolean", "const": True, "title": "吊装区域已设警戒，吊物下方及作业半径内无人"},
    "ground_checked": {"type": "boolean", "const": True, "title": "支腿、地基承载已确认"},
    "plan_measures": flag("吊装方案措施已落实（须编制方案时必需）"),
    "monitor_present": {"type": "boolean", "const": True, "title": "监护人在岗（4.10）"},
    "wind_force_now": number("现场风力", "级（蒲福风级）", minimum=0, maximum=17, integer=True),
}, ["permit_checked", "crane_inspected", "rigging_checked", "crew_certified", "area_cordoned", "ground_checked",
    "plan_measures", "monitor_present", "wind_force_now"])

FORMS["lifting_work.json"] = work_form("吊装作业", "吊物已就位、稳固，吊钩已摘除，报验收")

FORMS["lifting_acceptance.json"] = form("吊装作业完工验收", {
    "load_secured": {"type": "boolean", "const": True, "title": "吊物就位固定，临时支撑/拉缆处理完毕"},
    "site_cleared": {"type": "boolean", "const": True, "title": "起重机械撤离或停放到位，警戒解除，场地清理（4.14）"},
    "comment": text("验收意见", min_length=0),
}, ["load_secured", "site_cleared"])

_OUT = {  # grade -> name, permit required, plan required, validity h, final approver
    "first": ['"first"', '"一级"', "True", "True", "24", '"plant_leader"'],
    "second": ['"second"', '"二级"', "True", "True", "24", '"supervision"'],
    "third_plan": ['"third"', '"三级"', "True", "True", "24", '"supervision"'],
    "third": ['"third"', '"三级"', "True", "False", "24", '"supervision"'],
    "none": ['"none"', '"不办票"', "False", "False", "0", '"production"'],
}
DMNS = {}
DMNS["lifting_grade.dmn"] = dmn(
    "lifting_grade", "吊装作业分级（GB 30871-2022 第 9 章）",
    [{"label": "吊物质量（吨）", "expr": "load_t", "type": "number"},
     {"label": "形状复杂或条件特殊", "expr": "complex_load", "type": "boolean"}],
    [("级别", "grade", "string"), ("级别名称", "grade_name", "string"), ("须办作业票", "permit_required", "boolean"),
     ("须编制吊装方案", "plan_required", "boolean"), ("有效期（小时）", "validity_hours", "number"),
     ("最终审批角色", "final_approver", "string")],
    [(["? > 100", "-"], _OUT["first"], "m > 100 t：一级，主管领导审批，须吊装方案；有效期标准未规定，24 h 为企业惯例"),
     (["? >= 40", "-"], _OUT["second"], "40–100 t：二级，专业管理部门审批，须吊装方案"),
     (["? >= 10", "True"], _OUT["third_plan"], "10–40 t 形状复杂或条件特殊：三级，也须吊装方案"),
     (["? >= 10", "False"], _OUT["third"], "10–40 t：三级，专业管理部门审批"),
     (["-", "-"], _OUT["none"], "< 10 t：不办作业票，作业危害分析仍由生产单位确认（企业默认）")],
    hit_policy="FIRST")

PLAN_CHECK = (
    "try:\n    plan_ref = (lifting_plan_ref or '').strip()\nexcept NameError:\n    plan_ref = ''\n"
    "lifting_plan_error = ''\n"
    "if permit_required and load_t > crane_capacity_t:\n"
    "    lifting_plan_error = ('吊物质量 ' + str(load_t) + ' t 超过起重机械额定起重量 ' + str(crane_capacity_t) +\n"
    "                          ' t：不得超载吊装，请更换起重机械或调整工况')\n"
    "elif permit_required and plan_required and not plan_ref:\n"
    "    lifting_plan_error = grade_name + '吊装须编制并审批吊装方案（第 9 章）：请填写吊装方案编号'\n"
    "del plan_ref\n")


def checks(b, after: str) -> str:
    """The plan check after the grading (in the phase that checks the application); its result is
    routed by :func:`check_routes`."""
    b.script("plan_check", "核对吊装方案与额定起重量", PLAN_CHECK, lane=WORKER)
    b.chain("plan_check", after)
    return "plan_check"


def check_routes(b, gw: str) -> None:
    """Below the permit threshold the application phase ends for the risk analysis (see
    :func:`outcomes`). (A missing plan or a load above the crane's capacity goes back to the
    applicant with an unknown work-plan number: ``back_when``; ``lifting_plan_error`` is empty below
    the threshold, so the order of the two tests does not matter.)"""
    b.end("application_no_permit", "不办作业票", lane=WORKER)
    b.flow(gw, "application_no_permit", condition="not permit_required", flow_id="Flow_lf_no_permit",
           name="< 10 t：不办票")


def outcomes(b, gw: str) -> None:
    """Below the permit threshold (the application phase ended before any review): production
    confirms the job's risk analysis and the request is closed without a permit."""
    b.user("lf_risk_review", "作业危害分析确认（免办作业票）", lane=PRODUCTION, form="lifting_risk_confirmation.json",
           props={"not_completed_by": "lf_apply", "priority": "60"})
    b.script("no_permit", "登记免办作业票", "permit_status = 'closed'\nclosed_at = now().isoformat()",
             lane=PRODUCTION)
    b.end("no_permit_end", "不办作业票（已做危害分析）", lane=PRODUCTION)
    b.flow(gw, "lf_risk_review", condition="not permit_required", flow_id="Flow_lf_risk_review",
           name="免办作业票")
    b.chain("lf_risk_review", "no_permit", "no_permit_end")


SPEC = PermitSpec(
    key="lifting_permit", prefix="lf", name="吊装安全作业票", documentation=DOC,
    apply_name="吊装作业申请", apply_form="lifting_application.json",
    rules=[("area_rule", "查区域类别", "area_classification"), ("grade_rule", "吊装作业分级", "lifting_grade"),
           ("wind_rule", "停止作业风力", "wind_limits")],
    simops_decision="simops_matrix",
    site_check_name="作业现场确认（机具、警戒、风力）", site_check_form="lifting_site_check.json",
    work_name="吊装作业", work_form="lifting_work.json", acceptance_form="lifting_acceptance.json",
    alarms=[("wind_alarm", "大风报警")], chain_length=3,
    init="operation_kind = 'lifting'\n", checks=checks, checks_name="吊装方案",
    back_when=" or bool(lifting_plan_error)", back_reason="无方案或超载", check_routes=check_routes, outcomes=outcomes,
    start_check=("if wind_force_now >= wind_limit_force:\n"
                 "    start_blocked_reason = ('现场风力 ' + str(wind_force_now) + ' 级，达到停止吊装风力 ' +\n"
                 "                            str(wind_limit_force) + ' 级')\n"
                 "elif plan_required and not plan_measures:\n"
                 "    start_blocked_reason = '吊装方案措施未落实'\n"))


def add(bpmn: dict, dmn_files: dict, forms: dict) -> None:
    forms.update(FORMS)
    dmn_files.update(DMNS)
    bpmn["lifting_permit.bpmn"] = build(SPEC)
