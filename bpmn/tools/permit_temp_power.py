"""临时用电安全作业票 (temporary power, GB 30871-2022 chapter 10): ``temp_power_permit``.

Not graded by the standard. The user unit reviews (with the SIMOPS check), the power supply unit
approves (the final approver, DOMAIN.md) and at the end disconnects the temporary line and accepts
the site. In a fire/explosion area the surroundings are gas-analysed before the power is connected
(10.1), with hot work's pass threshold and 30-min window (gas_pass_threshold.dmn), and a gas alarm of
the area suspends the permit; elsewhere an alarm is noted and the work goes on. Every number is in
temp_power_rules.dmn.
"""
from __future__ import annotations

from build_library import (AREA_CLASS_VALUES, LEADER, PRODUCTION, SIMOPS_DECIDE, simops_lookup, WORKER, choice,
                           flag, form, number, text, when, when_sample_time_ok)
from engine.bpmn_builder import ProcessBuilder
from live_permit import (CLEAR_SIMOPS, acceptance_sub, application_sub, approver_decision, init_script, main_path,
                         post_script, prework_sub, rules_sub, unit_review_form, unit_review_sub, with_documentation,
                         working_sub)

SUPPLY = "供电单位 (maintenance)"
HAZARDOUS = '? in ("fire_explosion", "major_hazard_tank_farm", "pipe_rack")'

DOC = (
    "临时用电安全作业票，依据 GB 30871-2022 第 10 章（临时用电作业）及第 4 章（基本要求）。"
    "10.1：在运行的火灾爆炸危险性生产装置、罐区和具有火灾爆炸危险场所内不应接临时电源，确需时应对周围环境"
    "进行可燃气体检测分析，合格标准同动火分析（gas_pass_threshold.dmn，样品 30 min 内有效）；"
    "临时用电设施应安装符合要求的漏电保护器（一机一闸一保护，额定动作电流 ≤ 30 mA、潮湿场所 ≤ 15 mA，"
    "动作时间 ≤ 0.1 s，GB 50194 / JGJ 46 惯例，temp_power_rules.dmn 可配置），接、拆线路时上级开关断电上锁挂牌、"
    "监护人在场，临时用电线路由持证电工安装、拆除；火灾爆炸危险场所使用相应防爆等级的电气元件；"
    "临时用电时间一般不超过 15 d（特殊情况不超过 30 d），有效期自签发起算（4.16）；用电结束后用电单位通知供电单位"
    "拆除临时用电线路。审批：用电（作业）单位审核并作交叉作业检查（4.7）→ 供电单位审批；审批人到现场（4.11），"
    "申请人、审核人不得审批本票（职责分离）。停工指令（stop_work）在签发后每个在办环节暂停作业票，复工指令后重新"
    "分析、现场确认；火灾爆炸危险场所的气体报警（gas_alarm）同样暂停。")

FORMS = {
    "temp_power_application.json": form("临时用电安全作业票申请", {
        "work_content": text("用电作业内容", min_length=2),
        "location_detail": text("用电地点", min_length=2),
        "equipment_id": text("设备位号（按设备停工时据此通知）", min_length=0),
        "work_plan_ref": text("作业计划编号（计划中的特殊作业据此关联）", min_length=0, max_length=200),
        "work_plan_ref_error": text("作业计划编号核对结果", min_length=0, readOnly=True),
        "power_source": text("电源接入点", min_length=2),
        "voltage_v": number("工作电压", "V", minimum=0, maximum=10000),
        "load_kw": number("用电设备总功率", "kW", minimum=0),
        "equipment_list": {"type": "array", "title": "用电设备", "minItems": 1, "items": text("设备名称及功率")},
        "electrician": text("作业电工"),
        "electrician_cert": text("电工作业证号", min_length=2),
        "monitor": text("监护人"),
        "damp_location": flag("潮湿场所或金属容器内用电"),
        "days_requested": number("申请用电天数", "天", minimum=1, maximum=30, integer=True,
                                 description="单位：天；GB 30871-2022 第 10 章：一般不超过 15 d"),
        "planned_start": when("计划开始时间"),
        "gas_name": text("周围可燃介质名称（无可燃介质填“无”）"),
        "gas_lel_pct": number("可燃介质爆炸下限 LEL（无可燃介质填 100）", "%（体积分数）", minimum=0, maximum=100),
        "hazards": {"type": "array", "title": "作业危害分析：危害因素", "minItems": 1, "items": text("危害因素")},
        "control_measures": {"type": "array", "title": "安全措施", "minItems": 1, "items": text("措施")},
    }, ["work_content", "location_detail", "power_source", "voltage_v", "load_kw", "equipment_list", "electrician",
        "electrician_cert", "monitor", "damp_location", "days_requested", "planned_start", "gas_name", "gas_lel_pct",
        "hazards", "control_measures"]),
    "temp_power_review.json": unit_review_form("用电单位审核（含交叉作业检查）"),
    "temp_power_gas_analysis.json": form("临时用电气体分析（火灾爆炸危险场所）", {
        "sampled_at": when("采样时间"),
        "sample_point": text("采样部位（接电点及用电设备周围）", min_length=2),
        "combustible_pct": number("可燃气体浓度", "%（体积分数）", minimum=0, maximum=100),
        "analyst": text("分析人"),
        "gas_analysis_error": text("采样时间核对结果", min_length=0, readOnly=True,
                                   description="超前于当前时间（超过时钟误差）的采样时间不予采信"),
    }, ["sampled_at", "sample_point", "combustible_pct", "analyst"]),
    "temp_power_site_check.json": form("送电前现场确认（当班班长）", {
        "electrician_certified": {"type": "boolean", "const": True, "title": "作业电工持有效电工作业证"},
        "upstream_locked": {"type": "boolean", "const": True, "title": "接线时上级开关已断电、上锁、挂牌，监护人在场"},
        "grounded": {"type": "boolean", "const": True, "title": "临时用电设备已接地保护"},
        "rcd_per_tool": {"type": "boolean", "const": True, "title": "一机一闸一保护（移动、手持电动工具逐个配置漏电保护器）"},
        "rcd_trip_ma": number("漏电保护器试验动作电流", "mA", minimum=0),
        "rcd_trip_s": number("漏电保护器试验动作时间", "s", minimum=0),
        "explosion_proof": flag("电气元件防爆等级与场所相符（火灾爆炸危险场所必需）"),
        "site_check_error": text("现场确认结果", min_length=0, readOnly=True),
    }, ["electrician_certified", "upstream_locked", "grounded", "rcd_per_tool", "rcd_trip_ma", "rcd_trip_s",
        "explosion_proof"]),
    "temp_power_progress.json": form("临时用电作业", {
        "action": choice("作业状态", [("complete", "用电结束，通知供电单位拆除线路")]),
        "note": text("说明", min_length=0),
    }, ["action"]),
    "temp_power_disconnect.json": form("拆除临时用电线路并验收（供电单位）", {
        "line_removed": {"type": "boolean", "const": True, "title": "临时用电线路已拆除"},
        "site_restored": {"type": "boolean", "const": True, "title": "现场已恢复、安全设施完好（4.14）"},
        "comment": text("验收意见", min_length=0),
    }, ["line_removed", "site_restored"]),
}


def rules_dmn(dmn) -> str:
    out = ["True", "True", "15", '"maintenance"']   # gas analysis, explosion-proof, max days, supply dept
    safe = ["False", "False", "15", '"maintenance"']
    return dmn(
        "temp_power_rules", "临时用电作业要求（GB 30871-2022 第 10 章）",
        [{"label": "区域类别", "expr": "area_class", "type": "string", "values": AREA_CLASS_VALUES},
         {"label": "潮湿场所或金属容器内", "expr": "damp_location", "type": "boolean"}],
        [("须气体分析", "gas_required", "boolean"), ("须防爆电气", "explosion_proof_required", "boolean"),
         ("最长有效期（天）", "max_validity_days", "number"), ("供电单位（部门编码）", "power_supply_department", "string"),
         ("漏电保护器动作电流上限（mA）", "rcd_max_trip_ma", "number"),
         ("漏电保护器动作时间上限（s）", "rcd_max_trip_s", "number")],
        [([HAZARDOUS, "False"], out + ["30", "0.1"], "10.1：火灾爆炸危险场所接临时电源前做可燃气体分析；防爆电气"),
         ([HAZARDOUS, "True"], out + ["15", "0.1"], "潮湿场所：漏电保护器 ≤ 15 mA（GB 50194 / JGJ 46 惯例）"),
         (['"general"', "False"], safe + ["30", "0.1"], "一般区域：一机一闸一保护，≤ 30 mA、≤ 0.1 s"),
         (['"general"', "True"], safe + ["15", "0.1"], "一般区域潮湿场所：≤ 15 mA")])


GAS_CHECK = when_sample_time_ok(
    "gas_pass = combustible_pct <= max_combustible_pct\n"
    "gas_results = gas_results + [{'at': sampled_at, 'combustible_pct': combustible_pct, 'pass': gas_pass}]\n"
    "if gas_pass:\n    sampled_ok_at = sampled_at")

SITE_EVAL = (
    "problems = []\n"
    "if rcd_trip_ma > rcd_max_trip_ma or rcd_trip_s > rcd_max_trip_s:\n"
    "    problems.append('漏电保护器试验 ' + str(rcd_trip_ma) + ' mA / ' + str(rcd_trip_s) + ' s 超过 '\n"
    "                    + str(rcd_max_trip_ma) + ' mA / ' + str(rcd_max_trip_s) + ' s，须更换')\n"
    "if explosion_proof_required and not explosion_proof:\n"
    "    problems.append('火灾爆炸危险场所须使用相应防爆等级的电气元件')\n"
    "site_check_error = '；'.join(problems)\nsite_checked = not problems\ndel problems")


def _supply_approval(b, apply: str, approved: str, rejected: str) -> str:
    # The supply unit is another department: its task is put there (and the permit's own department
    # restored when it is done, so later tasks stay with the user unit).
    b.user("tp_supply_approval", "供电单位审批", lane=SUPPLY, form="permit_review.json",
           props={"not_completed_by": "tp_apply,tp_unit_review", "priority": "80"},
           pre_script="department = power_supply_department")
    post_script(b, "tp_supply_approval", "del department")
    approver_decision(b, "tp_supply_approval", "supply_gw", "供电单位结论", "tp_supply", approved=approved,
                      apply=apply, rejected=rejected)
    return "tp_supply_approval"


def _checks(b) -> None:
    b.user("tp_gas_analysis", "接电前气体分析", lane=LEADER, form="temp_power_gas_analysis.json",
           props={"not_completed_by": "tp_apply", "priority": "80"})
    b.script("gas_check", "判定分析结果", GAS_CHECK, lane=LEADER)
    b.xor("gas_gw", "分析合格?", default="Flow_tp_gas_ok")
    b.user("tp_site_check", "送电前现场确认", lane=LEADER, form="temp_power_site_check.json",
           props={"priority": "80"})
    b.script("site_eval", "判定现场确认", SITE_EVAL, lane=LEADER)
    b.chain("tp_gas_analysis", "gas_check", "gas_gw")
    b.flow("gas_gw", "tp_gas_analysis", condition="not gas_pass", flow_id="Flow_tp_gas_fail",
           name="不合格或采样时间无效，重新分析")
    b.flow("gas_gw", "tp_dispatch", flow_id="Flow_tp_gas_ok", name="合格")
    b.chain("tp_site_check", "site_eval", "tp_dispatch")


def _work(b, done: str) -> None:
    b.user("tp_work", "临时用电作业", lane=WORKER, form="temp_power_progress.json",
           props={"due": "parse_datetime(permit_expires_at)", "priority": "60"})
    b.chain("tp_work", done)


def _disconnect(b, close: str) -> str:
    b.user("tp_disconnect", "拆除线路并验收", lane=SUPPLY, form="temp_power_disconnect.json",
           props={"not_completed_by": "tp_apply", "priority": "70"},
           pre_script="department = power_supply_department")
    post_script(b, "tp_disconnect", "del department")
    b.chain("tp_disconnect", close)
    return "tp_disconnect"


def temp_power_permit() -> str:
    """Drawn as hot work is: 申请与审批 ⊞, 签发, 作业前检查 ⊞ (dispatch, gas analysis, site check),
    临时用电作业 ⊞ (stop-work, gas alarm, expiry), then the supply unit's disconnection (live_permit.py)."""
    b = ProcessBuilder("temp_power_permit", "临时用电安全作业票")
    b.lane(WORKER).lane(PRODUCTION).lane(SUPPLY).lane(LEADER)
    rules = rules_sub("tp_", "用电要求与有效期", [WORKER, PRODUCTION], [
        ("rule", "area_rule", "查区域类别", "area_classification", WORKER),
        ("rule", "rules", "临时用电作业要求", "temp_power_rules", WORKER),
        ("rule", "gas_rule", "气体分析合格标准", "gas_pass_threshold", WORKER),
        ("script", "validity", "确定有效期", "validity_days = min(days_requested, max_validity_days)\n"
         "validity_hours = validity_days * 24\n" + CLEAR_SIMOPS, PRODUCTION)])
    unit = unit_review_sub(
        "tp_", "temp_power_permit", title="单位审核与交叉作业", review="tp_unit_review",
        review_name="用电单位审核", form="temp_power_review.json", not_completed_by="tp_apply",
        check="simops_check", check_name="交叉作业冲突检查",
        check_script=simops_lookup("temp_power_permit") + "simops_conflicts = active_permits_in_area\n" + SIMOPS_DECIDE,
        gw_name="用电单位结论")
    application = application_sub(
        "tp_", "temp_power_permit", title="临时用电申请与审批", lanes=[WORKER, PRODUCTION, SUPPLY],
        init=init_script("temp_power", "gas_results = []\nsampled_ok_at = ''\ngas_analysis_error = ''\n"
                                       "site_check_error = ''\n"),
        apply="tp_apply", apply_name="临时用电申请（含危害分析）", apply_form="temp_power_application.json",
        rules=rules, unit=unit, unit_gw_name="用电单位结论", approval=_supply_approval)
    prework = prework_sub("tp_", title="送电前检查",
                          checks=["tp_gas_analysis", "tp_site_check"], add_checks=_checks,
                          gas_task="tp_gas_analysis", gas_alarm=True)
    working = working_sub("tp_", title="用电作业与暂停", lanes=[WORKER, LEADER],
                          work="tp_work", add_work=_work, gas=True, gas_alarm=True)
    main_path(b, "tp_", start_name="申请临时用电", application=application, prework=prework, working=working,
              acceptance=acceptance_sub("tp_", "拆线验收与关闭", SUPPLY, _disconnect),
              issue_lane=LEADER, prework_lane=LEADER, acceptance_lane=SUPPLY, after_issue=[])
    return with_documentation(b.to_xml(), "temp_power_permit", DOC)


def add(bpmn: dict, dmn_files: dict, forms: dict) -> None:
    from library import dmn
    forms.update(FORMS)
    dmn_files["temp_power_rules.dmn"] = rules_dmn(dmn)
    bpmn["temp_power_permit.bpmn"] = temp_power_permit()
