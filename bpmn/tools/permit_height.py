"""高处安全作业票 (work at height, GB 30871-2022 chapter 8): ``height_permit``.

Grade Ⅰ–Ⅳ by the working height (2–5 / 5–15 / 15–30 / >30 m, GB/T 3608 bands), one grade higher
when an objective fall hazard of GB/T 3608 is present; approver by grade: the production unit (Ⅰ),
the specialist (safety) department (Ⅱ, Ⅲ), the plant leader in charge (Ⅳ), every step a different
person. Valid 7 days from the issue. The site check confirms the fall protection; wind at or above
the DMN limit (``wind_limits``) keeps the work from starting, and a ``wind_alarm`` of the area
suspends it until the site check passes again.
"""
from __future__ import annotations

from build_library import dmn, flag, form, number, people, text, when, choice
from special_ops import PLAN_REF_FIELDS, PermitSpec, build, work_form

DOC = (
    "高处安全作业票（GB 30871-2022 第 8 章）。分级按作业高度（GB/T 3608）：2–5 m Ⅰ级、5–15 m Ⅱ级、15–30 m Ⅲ级、"
    ">30 m Ⅳ级；存在 GB/T 3608 所列直接引起坠落的客观危险因素时升一级（最高Ⅳ级）。审批：Ⅰ级作业所在生产单位，"
    "Ⅱ、Ⅲ级报专业管理部门，Ⅳ级再报主管领导；审批人到现场（4.11），每一级与前面各级、申请人不是同一人。"
    "有效期自签发起算最长 7 d（8 章；4.16）。作业前由当班班长现场确认防护措施：安全带高挂低用、作业平台/脚手架"
    "验收合格、临边洞口防护与安全网、下方警戒、工具材料防坠、与带电体的安全距离、监护人在岗（4.10）；现场风力"
    "达到 wind_limits.dmn 的限值（默认 5 级）不得作业，区域大风报警（wind_alarm）暂停作业票，复核风力后恢复。"
    "停工指令（stop_work）在每个在办状态暂停作业票，复工指令后重新现场确认。完工验收恢复安全设施（4.14）。"
    "全部数值为 height_grade.dmn、wind_limits.dmn 中的可配置默认值。")

FORMS = {}
FORMS["height_application.json"] = form("高处安全作业票申请", {
    "work_content": text("作业内容", min_length=2),
    "location_detail": text("作业地点（部位）", min_length=2),
    "equipment_id": text("设备位号（按设备停工时据此通知）", min_length=0),
    **PLAN_REF_FIELDS,
    "work_height_m": number("作业高度（坠落高度基准面以上）", "米", minimum=2, maximum=500),
    "objective_hazard": flag("存在直接引起坠落的客观危险因素（GB/T 3608：阵风五级以上、低温、冰雪、光线不足、"
                             "接近带电体、摆动立足处、有毒气体或缺氧、抢险等）",
                             description="存在时作业级别升一级（最高Ⅳ级）"),
    "access_means": choice("作业方式", [("scaffold", "脚手架"), ("platform", "固定平台/操作台"),
                                       ("aerial_lift", "高空作业车/升降平台"), ("ladder", "梯子"),
                                       ("rope", "绳索/悬空作业")]),
    "outdoors": flag("露天作业"),
    "planned_start": when("计划开始时间"),
    "planned_end": when("计划结束时间"),
    "workers": people("作业人员"),
    "monitor": text("监护人"),
    "hazards": {"type": "array", "title": "作业危害分析：危害因素", "minItems": 1, "items": text("危害因素")},
    "control_measures": {"type": "array", "title": "安全措施（防坠落措施）", "minItems": 1, "items": text("措施")},
    "briefing_done": flag("已进行安全交底（4.4）"),
}, ["work_content", "location_detail", "work_height_m", "objective_hazard", "access_means", "outdoors",
    "planned_start", "workers", "monitor", "hazards", "control_measures", "briefing_done"],
    "GB 30871-2022 第 8 章；分级 GB/T 3608")

FORMS["height_site_check.json"] = form("高处作业现场确认（当班班长）", {
    "permit_checked": {"type": "boolean", "const": True, "title": "作业票有效、内容与现场一致"},
    "harness_anchored": {"type": "boolean", "const": True, "title": "安全带（全身式）高挂低用，系挂点牢固"},
    "platform_accepted": {"type": "boolean", "const": True, "title": "脚手架/作业平台/梯子已检查验收合格"},
    "edge_protection": {"type": "boolean", "const": True, "title": "临边、洞口防护及安全网已设置"},
    "area_below_cordoned": {"type": "boolean", "const": True, "title": "下方已设警戒区，禁止人员通行"},
    "tools_secured": {"type": "boolean", "const": True, "title": "工具、材料有防坠落措施，不上下抛掷"},
    "live_parts_clear": {"type": "boolean", "const": True, "title": "与带电体保持安全距离或已停电"},
    "monitor_present": {"type": "boolean", "const": True, "title": "监护人在岗（4.10）"},
    "wind_force_now": number("现场风力", "级（蒲福风级）", minimum=0, maximum=17, integer=True),
}, ["permit_checked", "harness_anchored", "platform_accepted", "edge_protection", "area_below_cordoned",
    "tools_secured", "live_parts_clear", "monitor_present", "wind_force_now"])

FORMS["height_work.json"] = work_form("高处作业", "作业完成，人员已下到地面，报验收")

FORMS["height_acceptance.json"] = form("高处作业完工验收", {
    "materials_removed": {"type": "boolean", "const": True, "title": "高处的工具、材料、杂物已清理"},
    "facilities_restored": {"type": "boolean", "const": True,
                            "title": "拆除的防护设施已恢复，临时设施已拆除或移交（4.14）"},
    "comment": text("验收意见", min_length=0),
}, ["materials_removed", "facilities_restored"])

_GRADES = {  # grade -> (name, validity h, final approver)
    "I": ('"I"', '"Ⅰ级"', "168", '"production"'),
    "II": ('"II"', '"Ⅱ级"', "168", '"supervision"'),
    "III": ('"III"', '"Ⅲ级"', "168", '"supervision"'),
    "IV": ('"IV"', '"Ⅳ级"', "168", '"plant_leader"'),
}
DMNS = {}
DMNS["height_grade.dmn"] = dmn(
    "height_grade", "高处作业分级（GB 30871-2022 第 8 章，GB/T 3608）",
    [{"label": "作业高度（米）", "expr": "work_height_m", "type": "number"},
     {"label": "存在客观危险因素（升一级）", "expr": "objective_hazard", "type": "boolean"}],
    [("级别", "grade", "string"), ("级别名称", "grade_name", "string"), ("有效期（小时）", "validity_hours", "number"),
     ("最终审批角色", "final_approver", "string")],
    [(["? > 30", "-"], list(_GRADES["IV"]), "30 m 以上：Ⅳ级，主管领导审批；有效期最长 7 d"),
     (["? > 15", "True"], list(_GRADES["IV"]), "Ⅲ级升一级"),
     (["? > 15", "False"], list(_GRADES["III"]), "15–30 m：Ⅲ级，专业管理部门审批"),
     (["? > 5", "True"], list(_GRADES["III"]), "Ⅱ级升一级"),
     (["? > 5", "False"], list(_GRADES["II"]), "5–15 m：Ⅱ级，专业管理部门审批"),
     (["-", "True"], list(_GRADES["II"]), "Ⅰ级升一级"),
     (["-", "False"], list(_GRADES["I"]), "2–5 m：Ⅰ级，作业所在生产单位审批")],
    hit_policy="FIRST")

# The wind at which outdoor work at height and lifting stop. One table for both kinds, so the alarm
# path (wind above the limit → wind_alarm to the area's height and lifting permits) reads the same
# numbers as the permits' own start check.
DMNS["wind_limits.dmn"] = dmn(
    "wind_limits", "停止作业的风力（GB 30871-2022 第 8、9 章）",
    [{"label": "作业类别", "expr": "operation_kind", "type": "string", "values": ['"height"', '"lifting"']}],
    [("停止作业风力（级）", "wind_limit_force", "number"), ("停止作业风速（m/s）", "wind_limit_ms", "number")],
    [(['"height"'], ["5", "8.0"], "高处作业：五级风（阵风 8.0 m/s）及以上不应进行露天高处作业（企业默认，可配置）"),
     (['"lifting"'], ["6", "10.8"], "吊装作业：六级风（10.8 m/s）及以上不应进行露天吊装作业")])


SPEC = PermitSpec(
    key="height_permit", prefix="ht", name="高处安全作业票", documentation=DOC,
    apply_name="高处作业申请", apply_form="height_application.json",
    rules=[("area_rule", "查区域类别", "area_classification"), ("grade_rule", "高处作业分级", "height_grade"),
           ("wind_rule", "停止作业风力", "wind_limits")],
    simops_decision="simops_matrix",
    site_check_name="作业现场确认（防护措施、风力）", site_check_form="height_site_check.json",
    work_name="高处作业", work_form="height_work.json", acceptance_form="height_acceptance.json",
    alarms=[("wind_alarm", "大风报警")], chain_length=3,
    init="operation_kind = 'height'\n",
    start_check=("if wind_force_now >= wind_limit_force:\n"
                 "    start_blocked_reason = ('现场风力 ' + str(wind_force_now) + ' 级，达到停止作业风力 ' +\n"
                 "                            str(wind_limit_force) + ' 级')\n"))


def add(bpmn: dict, dmn_files: dict, forms: dict) -> None:
    forms.update(FORMS)
    dmn_files.update(DMNS)
    bpmn["height_permit.bpmn"] = build(SPEC)
