"""盲板抽堵安全作业票 (blinding, GB 30871-2022 chapter 7): ``blinding_permit``.

One permit per blind plate and per operation (insert or remove); the application names the
pipeline (``pipeline``: the SIMOPS check of 7.10 reads it), medium, pressure, temperature, the
plate's number and place on the blind-plate map, and the isolation list. In a fire/explosion area
(by ``area_classification``) a gas analysis passes before the work (the hot-work thresholds of
``gas_pass_threshold``) and a gas alarm of the area suspends the permit until a new analysis
passes. Approved by the production unit (one grade), accepted jointly at the end (7.11).
"""
from __future__ import annotations

from build_library import AREA_CLASS_VALUES, choice, dmn, flag, form, number, people, text, when
from special_ops import PLAN_REF_FIELDS, PermitSpec, build, work_form

FIRE_AREAS = '? in ("fire_explosion", "major_hazard_tank_farm", "pipe_rack")'

DOC = (
    "盲板抽堵安全作业票（GB 30871-2022 第 7 章）。一块盲板的一次抽或堵办一张票；申请写明管道（pipeline）、介质、"
    "压力、温度、盲板编号与盲板位置图上的位置、隔离清单（7.1、7.2）。火灾爆炸危险场所：作业前气体分析合格"
    "（合格标准同动火分析，gas_pass_threshold），作业人员穿防静电服、使用防爆工具（7.5），区域气体报警即暂停，"
    "重新分析合格后恢复；距作业点 30 m 内不得动火（7.6）；同一管道不得同时进行两处及以上盲板抽堵（7.10）—— "
    "两条在交叉作业审批中检查。审批：作业所在生产单位（基层单位）；审批人到现场（4.11），申请人不得审批自己的票。"
    "有效期自签发起算（4.16），标准未规定盲板抽堵作业票有效期，默认 24 h 为企业惯例，在 blinding_rules.dmn 中可配置。"
    "停工指令（stop_work）在每个在办状态暂停作业票，复工指令（restart）后重新分析/确认。完工由作业单位和生产单位"
    "共同确认盲板状态（7.11）。")

FORMS = {}
FORMS["blinding_application.json"] = form("盲板抽堵安全作业票申请", {
    "work_content": text("作业内容", min_length=2),
    "operation": choice("作业类别（一票一板一次作业）", [("insert", "堵盲板"), ("remove", "抽盲板")]),
    "pipeline": text("管道编号（同一管道不得同时进行两处盲板抽堵，7.10）", max_length=64),
    "equipment_id": text("设备位号（按设备停工时据此通知）", min_length=0),
    **PLAN_REF_FIELDS,
    "medium": text("管道介质"),
    "gas_lel_pct": number("介质爆炸下限 LEL（不可燃填 100）", "%（体积分数）", minimum=0, maximum=100),
    "pressure_mpa": number("介质压力", "MPa（表压）"),
    "temperature_c": number("介质温度", "℃", minimum=-273),
    "blind_plate_no": text("盲板编号（与盲板位置图一致）", max_length=64),
    "blind_location": text("盲板位置（盲板位置图上的部位）", min_length=2),
    "blind_spec": text("盲板规格（材质、公称直径、公称压力）", min_length=2),
    "isolation_list": {"type": "array", "title": "隔离清单（阀门、盲板、断电等）", "minItems": 1,
                       "items": text("隔离点")},
    "planned_start": when("计划开始时间"),
    "workers": people("作业人员"),
    "monitor": text("监护人"),
    "hazards": {"type": "array", "title": "作业危害分析：危害因素", "minItems": 1, "items": text("危害因素")},
    "control_measures": {"type": "array", "title": "安全措施", "minItems": 1, "items": text("措施")},
    "briefing_done": flag("已进行安全交底（4.4）"),
}, ["work_content", "operation", "pipeline", "medium", "gas_lel_pct", "pressure_mpa", "temperature_c",
    "blind_plate_no", "blind_location", "blind_spec", "isolation_list", "planned_start", "workers", "monitor",
    "hazards", "control_measures", "briefing_done"],
    "GB 30871-2022 7.1、7.2：盲板位置图、编号，管道介质、压力、温度")

FORMS["blinding_gas_analysis.json"] = form("盲板抽堵作业气体分析", {
    "sampled_at": when("采样时间"),
    "combustible_pct": number("可燃气体浓度", "%（体积分数）", minimum=0, maximum=100),
    "oxygen_pct": number("氧含量", "%（体积分数）", minimum=0, maximum=100),
    "toxic_within_limits": flag("有毒有害气体不超过职业接触限值"),
    "analyst": text("分析人"),
    "gas_analysis_error": text("采样时间核对结果", min_length=0, readOnly=True,
                               description="超前于当前时间（超过时钟误差）的采样时间不予采信"),
}, ["sampled_at", "combustible_pct", "toxic_within_limits", "analyst"])

FORMS["blinding_site_check.json"] = form("盲板抽堵作业现场确认（当班班长）", {
    "permit_checked": {"type": "boolean", "const": True, "title": "作业票有效、内容与现场一致"},
    "plate_matches_map": {"type": "boolean", "const": True, "title": "盲板编号、位置与盲板位置图一致，已挂牌（7.1）"},
    "depressurised": {"type": "boolean", "const": True, "title": "管道已泄压至常压、介质已排净（7.2）"},
    "isolation_done": {"type": "boolean", "const": True, "title": "隔离清单所列隔离已落实"},
    "monitor_present": {"type": "boolean", "const": True, "title": "监护人在岗（4.10）"},
    "explosion_proof": flag("防静电服、防爆工具、防爆灯具（火灾爆炸危险场所必需，7.5）"),
    "temperature_protection": flag("高温/低温介质的防烫、防冻措施已落实（7.8）"),
}, ["permit_checked", "plate_matches_map", "depressurised", "isolation_done", "monitor_present", "explosion_proof"])

FORMS["blinding_work.json"] = work_form("盲板抽堵作业", "盲板已按票抽/堵完毕，报验收")

FORMS["blinding_acceptance.json"] = form("盲板抽堵完工确认（作业单位、生产单位共同确认）", {
    "plate_state_confirmed": {"type": "boolean", "const": True, "title": "盲板状态与作业票一致，已登记盲板台账（7.11）"},
    "no_leak": {"type": "boolean", "const": True, "title": "法兰处无泄漏"},
    "site_cleared": {"type": "boolean", "const": True, "title": "工完料净场地清，安全设施已恢复（4.14）"},
    "comment": text("验收意见", min_length=0),
}, ["plate_state_confirmed", "no_leak", "site_cleared"])

DMNS = {}
DMNS["blinding_rules.dmn"] = dmn(
    "blinding_rules", "盲板抽堵作业要求（GB 30871-2022 第 7 章）",
    [{"label": "区域类别", "expr": "area_class", "type": "string", "values": AREA_CLASS_VALUES}],
    [("作业前气体分析", "gas_analysis_required", "boolean"), ("有效期（小时）", "validity_hours", "number"),
     ("最终审批角色", "final_approver", "string")],
    [([FIRE_AREAS], ["True", "24", '"production"'],
      "火灾爆炸危险场所（含罐区、管廊）：作业前气体分析（7.5）；有效期标准未规定，24 h 为企业惯例"),
     (['"general"'], ["False", "24", '"production"'], "其他场所")])


SPEC = PermitSpec(
    key="blinding_permit", prefix="bl", name="盲板抽堵安全作业票", documentation=DOC,
    apply_name="盲板抽堵作业申请", apply_form="blinding_application.json",
    rules=[("area_rule", "查区域类别", "area_classification"), ("bl_rules", "盲板抽堵作业要求", "blinding_rules"),
           ("gas_rule", "气体分析合格标准", "gas_pass_threshold")],
    simops_decision="simops_matrix",
    site_check_name="作业现场确认", site_check_form="blinding_site_check.json",
    work_name="盲板抽堵作业", work_form="blinding_work.json", acceptance_form="blinding_acceptance.json",
    alarms=[("gas_alarm", "气体报警")], chain_length=1,
    gas_analysis=True, gas_form="blinding_gas_analysis.json",
    init="gas_results = []\ngas_analysis_error = ''\n",
    start_check=("if gas_analysis_required and not explosion_proof:\n"
                 "    start_blocked_reason = '火灾爆炸危险场所须穿防静电服、使用防爆工具（7.5）'\n"))


def add(bpmn: dict, dmn_files: dict, forms: dict) -> None:
    forms.update(FORMS)
    dmn_files.update(DMNS)
    bpmn["blinding_permit.bpmn"] = build(SPEC)
