"""动土安全作业票 (excavation, GB 30871-2022 chapter 11): ``excavation_permit``.

Not graded by the standard. Before anyone digs, the units concerned confirm the buried services in
the area of the dig in parallel — the equipment/electrical department (power, telecom and instrument
cables) and emergency (fire-water mains, fire access) — then the operating unit reviews (process
pipelines, the SIMOPS check) and approves. Shoring, ladders and the confined-space rule follow from
depth and soil (excavation_limits.dmn); a buried object nobody marked stops the work until the unit
has dealt with it (11.4).
"""
from __future__ import annotations

from build_library import (EMERGENCY, LEADER, MAINTENANCE, PRODUCTION, SIMOPS_DECIDE, simops_lookup, WORKER,
                           choice, flag, form, number, people, text, when)
from engine.bpmn_builder import ProcessBuilder
from live_permit import (CLEAR_SIMOPS, acceptance_sub, application_sub, init_script, main_path, pause_path,
                         post_script, prework_sub, rules_sub, unit_review_form, unit_review_sub,
                         with_documentation, working_sub)
from special_ops import pausable

SOILS = [("sand_gravel", "密实、中密的砂土和碎石类土（充填物为砂土）"), ("silt", "硬塑、可塑的粉土及粉质黏土"),
         ("clay", "硬塑、可塑的黏土和碎石类土（充填物为黏性土）"), ("hard_clay", "坚硬的黏土")]
SERVICES = [("power_cable", "电力电缆"), ("telecom_cable", "通信、网络、仪表电（光）缆"),
            ("process_pipe", "工艺管道（易燃易爆、有毒有害介质）"), ("fire_water", "消防水管道"),
            ("drain", "排水管道、窨井"), ("none_known", "未知有地下设施")]
HAZARDOUS = '? in ("fire_explosion", "major_hazard_tank_farm", "pipe_rack")'

DOC = (
    "动土安全作业票，依据 GB 30871-2022 第 11 章（动土作业）及第 4 章。作业前应了解地下隐蔽设施（电力、通信电缆，"
    "工艺、消防、排水管道等）的分布，由有关单位现场确认并会签（本流程：设备电气部门、应急/消防并行会签，作业单位审核"
    "工艺管道）；临近地下隐蔽设施应人工挖掘，暴露出电缆、管线或不能辨认的物品时应立即停止作业、妥善保护并报告"
    "动土审批单位处理，采取措施后方可继续（11.4）；现场设护栏、盖板和警示标志，夜间悬挂警示灯（11.2）；"
    "开挖前做好排水（11.3）；应视土壤性质、湿度和挖掘深度设置安全边坡或固壁支撑，挖出的土石方堆放距坑边 ≥ 1 m、"
    "高度 ≤ 1.5 m（11.5）；深度大于 2 m 设梯子等上下设施，两人以上同时挖土相距 2 m 以上（11.6）；"
    "在生产装置区、罐区等危险场所动土遇有埋设的易燃易爆、有毒有害介质管线且挖掘深度超过 1.2 m 时执行受限空间"
    "作业规定（11.9），须另办受限空间作业票（4.6）；作业结束及时回填、恢复地面设施（11.10）。不加支撑的允许深度"
    "按土质取 JGJ 180 惯例值，有效期为企业惯例，均在 excavation_limits.dmn 中可配置；有效期自签发起算（4.16）。"
    "审批人到现场（4.11），申请人、会签人不得审批本票；停工指令在签发后每个在办环节暂停作业票。")

FORMS = {
    "excavation_application.json": form("动土安全作业票申请", {
        "work_content": text("动土作业内容", min_length=2),
        "location_detail": text("动土地点", min_length=2),
        "equipment_id": text("设备位号（按设备停工时据此通知）", min_length=0),
        "work_plan_ref": text("作业计划编号（计划中的特殊作业据此关联）", min_length=0, max_length=200),
        "work_plan_ref_error": text("作业计划编号核对结果", min_length=0, readOnly=True),
        "method": choice("挖掘方式", [("manual", "人工挖掘"), ("mechanical", "机械挖掘"), ("mixed", "机械与人工")]),
        "depth_m": number("挖掘深度", "m", minimum=0, maximum=30),
        "area_m2": number("挖掘面积", "m²", minimum=0),
        "soil_type": choice("土质", SOILS),
        "buried_services": {"type": "array", "title": "已知的地下设施（据图纸）", "uniqueItems": True,
                            "items": choice("地下设施", SERVICES)},
        "sketch_ref": text("作业范围简图编号", min_length=1),
        "workers": people("作业人员"),
        "monitor": text("监护人"),
        "planned_start": when("计划开始时间"),
        "hazards": {"type": "array", "title": "作业危害分析：危害因素", "minItems": 1, "items": text("危害因素")},
        "control_measures": {"type": "array", "title": "安全措施", "minItems": 1, "items": text("措施")},
        "services_error": text("地下设施会签意见", min_length=0, readOnly=True),
    }, ["work_content", "location_detail", "method", "depth_m", "area_m2", "soil_type", "buried_services",
        "sketch_ref", "workers", "monitor", "planned_start", "hazards", "control_measures"]),
    "excavation_cables.json": form("地下电缆确认（设备电气部门会签）", {
        "cables_found": text("开挖范围内的电力、通信、仪表电缆（无则填“无”）", min_length=1),
        "cables_marked": flag("已在现场标出位置和走向"),
        "cables_clear": flag("同意开挖（可避让或已采取保护措施）"),
        "comment": text("会签意见", min_length=0),
    }, ["cables_found", "cables_marked", "cables_clear"]),
    "excavation_fire.json": form("消防管道与通道确认（应急/消防会签）", {
        "fire_mains_found": text("开挖范围内的消防水管道（无则填“无”）", min_length=1),
        "fire_access_kept": flag("消防通道保持畅通"),
        "fire_clear": flag("同意开挖"),
        "comment": text("会签意见", min_length=0),
    }, ["fire_mains_found", "fire_access_kept", "fire_clear"]),
    "excavation_review.json": unit_review_form("作业单位审批（工艺管道、交叉作业）", {
        "process_pipes_checked": flag("已核对开挖范围内的工艺管道"),
        "confined_space_permit_ref": text("受限空间作业票编号（11.9 要求时填写）", min_length=0),
        "review_error": text("审批核对结果", min_length=0, readOnly=True),
        "site_requirements": text("现场要求（按深度与土质）", min_length=0, readOnly=True),
    }),
    "excavation_site_check.json": form("动土前现场确认（当班班长）", {
        "site_requirements": text("现场要求（按深度与土质）", min_length=0, readOnly=True),
        "services_marked": {"type": "boolean", "const": True, "title": "地下设施位置已在现场标识，临近处人工挖掘"},
        "barriers_signs": {"type": "boolean", "const": True, "title": "护栏、盖板、警示标志已设置，夜间警示灯（11.2）"},
        "drainage": {"type": "boolean", "const": True, "title": "地面和地下排水措施已落实（11.3）"},
        "spoil_placement": {"type": "boolean", "const": True, "title": "土石方堆放距离和高度符合现场要求（11.5）"},
        "monitor_present": {"type": "boolean", "const": True, "title": "监护人在岗（4.10）"},
        "shoring_in_place": flag("安全边坡或固壁支撑已设置"),
        "ladder_in_place": flag("人员上下梯子等设施已设置"),
        "site_check_error": text("现场确认结果", min_length=0, readOnly=True),
    }, ["services_marked", "barriers_signs", "drainage", "spoil_placement", "monitor_present", "shoring_in_place",
        "ladder_in_place"]),
    "excavation_progress.json": pausable(form("动土作业", {
        "action": choice("作业状态", [("complete", "作业完成，申请验收"),
                                     ("buried_object", "暴露出未标明的电缆、管线或不能辨认的物品，已停止作业")]),
        "note": text("说明", min_length=0),
    }, ["action"])),
    "excavation_object.json": form("处理地下不明物（动土审批单位）", {
        "identified_as": text("物品辨认结果", min_length=2),
        "protected": {"type": "boolean", "const": True, "title": "已妥善保护"},
        "measures": text("采取的措施", min_length=2),
        "object_decision": choice("处理结论", [("resume", "措施已落实，继续动土（重新现场确认）"), ("end", "终止作业，重新办票")]),
    }, ["identified_as", "protected", "measures", "object_decision"]),
    "excavation_acceptance.json": form("动土完工验收", {
        "backfilled": {"type": "boolean", "const": True, "title": "已回填土石，恢复地面设施（11.10）"},
        "services_intact": {"type": "boolean", "const": True, "title": "地下设施完好"},
        "signs_removed": {"type": "boolean", "const": True, "title": "护栏、警示标志已撤除或按需保留"},
        "comment": text("验收意见", min_length=0),
    }, ["backfilled", "services_intact", "signs_removed"]),
}


def limits_dmn(dmn) -> str:
    common = ["1.2", "2", "1", "1.5", "2", "72", '"maintenance"']
    return dmn(
        "excavation_limits", "动土作业要求（GB 30871-2022 第 11 章）",
        [{"label": "土质", "expr": "soil_type", "type": "string", "values": [f'"{k}"' for k, _ in SOILS]}],
        [("不加支撑的允许深度（m）", "support_free_depth_m", "number"),
         ("危险场所执行受限空间规定的深度（m）", "confined_space_depth_m", "number"),
         ("须设梯子的深度（m）", "ladder_depth_m", "number"),
         ("土石方距坑边最小距离（m）", "spoil_min_distance_m", "number"),
         ("土石方最大堆高（m）", "spoil_max_height_m", "number"),
         ("两人同时挖土最小间距（m）", "digger_spacing_m", "number"),
         ("作业票有效期（小时）", "validity_hours", "number"),
         ("电缆会签部门（编码）", "services_department", "string")],
        [(['"sand_gravel"'], ["1.0"] + common, "不加支撑允许深度按 JGJ 180 惯例；1.2 m（11.9）、2 m（11.6）、1 m / 1.5 m（11.5）；"
                                               "有效期 72 h 为企业惯例"),
         (['"silt"'], ["1.25"] + common, ""),
         (['"clay"'], ["1.5"] + common, ""),
         (['"hard_clay"'], ["2.0"] + common, "")])


ASSESS = (
    "shoring_required = depth_m > support_free_depth_m\n"
    "ladder_required = depth_m > ladder_depth_m\n"
    "hazardous_area = area_class in ('fire_explosion', 'major_hazard_tank_farm', 'pipe_rack')\n"
    "needs_confined_space_permit = hazardous_area and 'process_pipe' in buried_services and "
    "depth_m > confined_space_depth_m\n"
    "site_requirements = ('深 ' + str(depth_m) + ' m：' +\n"
    "    ('须放坡或固壁支撑（不加支撑允许 ' + str(support_free_depth_m) + ' m）' if shoring_required else '可不支撑') +\n"
    "    '；' + ('须设梯子（> ' + str(ladder_depth_m) + ' m）' if ladder_required else '无需梯子') +\n"
    "    '；土石方距坑边 ≥ ' + str(spoil_min_distance_m) + ' m、堆高 ≤ ' + str(spoil_max_height_m) + ' m'\n"
    "    '；两人挖土相距 ≥ ' + str(digger_spacing_m) + ' m' +\n"
    "    ('；执行受限空间作业规定（11.9）' if needs_confined_space_permit else ''))\n"
    "services_error = ''\n" + CLEAR_SIMOPS)

REVIEW_CHECK = (
    simops_lookup("excavation_permit") + "simops_conflicts = active_permits_in_area\n" + SIMOPS_DECIDE +
    "try:\n    cs_ref = confined_space_permit_ref or ''\nexcept NameError:\n    cs_ref = ''\n"
    "review_error = ''\n"
    "if needs_confined_space_permit and not cs_ref:\n"
    "    review_error = '危险场所内有易燃易爆、有毒介质管线且深度超过 ' + str(confined_space_depth_m) + "
    "' m：执行受限空间作业规定，须填写受限空间作业票编号（11.9、4.6）'\n"
    "review_blocked = simops_blocked or bool(review_error)\n"
    "del cs_ref\n")


SERVICES_EVAL = (
    "services_ok = bool(cables_clear) and bool(fire_clear)\n"
    "services_error = '' if services_ok else ('有关单位不同意开挖：' + '；'.join(\n"
    "    [n for n, ok in (('设备电气部门（电缆）', cables_clear), ('应急/消防（消防管道、通道）', fire_clear))"
    " if not ok]) + '，请调整开挖范围或保护措施后重新申请')")

SITE_EVAL = (
    "problems = []\n"
    "if shoring_required and not shoring_in_place:\n    problems.append('须设置安全边坡或固壁支撑（11.5）')\n"
    "if ladder_required and not ladder_in_place:\n    problems.append('深度超过 ' + str(ladder_depth_m) + "
    "' m 须设梯子（11.6）')\n"
    "site_check_error = '；'.join(problems)\nsite_checked = not problems\ndel problems")


def _services_sub() -> ProcessBuilder:
    """会签: the equipment/electrical department (cables) and emergency (fire mains, fire access)
    confirm the buried services in parallel; ``services_ok`` says whether both agree."""
    b = ProcessBuilder("ex_services", "地下设施会签")
    b.lane(MAINTENANCE).lane(EMERGENCY).lane(PRODUCTION)
    b.start("ex_services_start", "会签")
    b.parallel("services_fork", "有关单位会签")
    b.user("ex_cables", "地下电缆确认", lane=MAINTENANCE, form="excavation_cables.json",
           props={"not_completed_by": "ex_apply", "priority": "70"}, pre_script="department = services_department")
    post_script(b, "ex_cables", "del department")
    b.user("ex_fire", "消防管道与通道确认", lane=EMERGENCY, form="excavation_fire.json",
           props={"not_completed_by": "ex_apply", "priority": "70"})
    b.parallel("services_join", "会签完成")
    b.script("services_eval", "汇总会签", SERVICES_EVAL, lane=PRODUCTION)
    b.end("ex_services_end", "已会签", lane=PRODUCTION)
    b.chain("ex_services_start", "services_fork")
    b.chain("services_fork", "ex_cables", "services_join")
    b.chain("services_fork", "ex_fire", "services_join")
    b.chain("services_join", "services_eval", "ex_services_end")
    return b


def _services(b, after: str, apply: str, then: str) -> None:
    b.sub("ex_services", "地下设施会签", _services_sub(), lane=PRODUCTION)
    b.xor("services_gw", "有关单位同意?", default="Flow_ex_services_ok")
    b.chain(after, "ex_services", "services_gw")
    b.flow("services_gw", apply, condition="not services_ok", flow_id="Flow_ex_services_refused",
           name="有关单位不同意：退回申请人")
    b.flow("services_gw", then, flow_id="Flow_ex_services_ok", name="会签同意")


def _checks(b) -> None:
    b.user("ex_site_check", "动土前现场确认", lane=LEADER, form="excavation_site_check.json", props={"priority": "80"})
    b.script("site_eval", "判定现场确认", SITE_EVAL, lane=LEADER)
    b.chain("ex_site_check", "site_eval", "ex_dispatch")


def _work(b, done: str) -> None:
    """The work, and a buried object nobody marked: the permit is suspended until the unit has dealt
    with it (11.4), then goes through the site check again or ends."""
    b.user("ex_work", "动土作业", lane=WORKER, form="excavation_progress.json",
           props={"due": "parse_datetime(permit_expires_at)", "priority": "60"})
    b.xor("work_gw", "作业状态", default="Flow_ex_work_done")
    b.script("suspend_object", "发现不明物：暂停作业", (
        "permit_status = 'suspended'\nsuspended_at = now().isoformat()\nsuspended_by = 'buried_object'\n"
        "site_checked = False"), lane=PRODUCTION)
    b.user("ex_object", "处理地下不明物", lane=PRODUCTION, form="excavation_object.json",
           props={"not_completed_by": "ex_apply", "priority": "90"})
    b.script("object_log", "登记处理结果", (
        "objects_found = objects_found + [{'at': now().isoformat(), 'identified_as': identified_as,"
        " 'measures': measures, 'decision': object_decision}]"), lane=PRODUCTION)
    b.xor("object_gw", "处理结论", default="Flow_ex_object_resume")
    b.script("cancel", "作业票作废", "permit_status = 'cancelled'", lane=PRODUCTION)
    b.end("ex_working_cancelled", "作业终止", lane=PRODUCTION)
    b.chain("ex_work", "work_gw")
    b.flow("work_gw", "suspend_object", condition="action == 'buried_object'", flow_id="Flow_ex_object",
           name="发现不明地下物")
    pause_path(b, "ex_", "work_gw")
    b.flow("work_gw", done, flow_id="Flow_ex_work_done", name="完成")
    b.chain("suspend_object", "ex_object", "object_log", "object_gw")
    b.flow("object_gw", "cancel", condition="object_decision == 'end'", flow_id="Flow_ex_object_end", name="终止作业")
    # Still suspended: the main plane sends it to the pre-work checks (the site check was cleared).
    b.flow("object_gw", "ex_working_suspended", flow_id="Flow_ex_object_resume", name="继续：重新现场确认")
    b.chain("cancel", "ex_working_cancelled")


def _acceptance(b, close: str) -> str:
    b.user("ex_acceptance", "完工验收", lane=PRODUCTION, form="excavation_acceptance.json",
           props={"not_completed_by": "ex_apply", "priority": "70"})
    b.chain("ex_acceptance", close)
    return "ex_acceptance"


def excavation_permit() -> str:
    """Drawn as hot work is: 申请、会签与审批 ⊞, 签发, 动土前检查 ⊞ (dispatch, site check), 动土作业 ⊞
    (stop-work, buried object, expiry), then the acceptance (live_permit.py)."""
    b = ProcessBuilder("excavation_permit", "动土安全作业票")
    b.lane(WORKER).lane(PRODUCTION).lane(LEADER)
    rules = rules_sub("ex_", "深度与土质要求", [WORKER], [
        ("rule", "area_rule", "查区域类别", "area_classification", WORKER),
        ("rule", "limits", "动土作业要求", "excavation_limits", WORKER),
        ("script", "assess", "按深度与土质确定要求", ASSESS, WORKER)])
    unit = unit_review_sub(
        "ex_", "excavation_permit", title="单位审批与交叉作业", review="ex_unit_review",
        review_name="作业单位审批", form="excavation_review.json", not_completed_by="ex_apply,ex_cables,ex_fire",
        check="review_check", check_name="交叉作业与受限空间规定检查", check_script=REVIEW_CHECK,
        gw_name="作业单位结论", blocked="review_blocked", blocked_name="交叉作业无协调人，或缺受限空间作业票")
    application = application_sub(
        "ex_", "excavation_permit", title="动土申请、会签与审批",
        lanes=[WORKER, MAINTENANCE, EMERGENCY, PRODUCTION],
        init=init_script("excavation", "services_error = ''\nsite_check_error = ''\nreview_error = ''\n"
                                       "objects_found = []\n"),
        apply="ex_apply", apply_name="动土作业申请（含危害分析）", apply_form="excavation_application.json",
        rules=rules, unit=unit, unit_gw_name="作业单位结论", services=_services)
    prework = prework_sub("ex_", title="动土前检查", checks=["ex_site_check"], add_checks=_checks)
    working = working_sub("ex_", title="动土作业与暂停", lanes=[WORKER, PRODUCTION, LEADER],
                          work="ex_work", add_work=_work)
    main_path(b, "ex_", start_name="申请动土", application=application, prework=prework, working=working,
              acceptance=acceptance_sub("ex_", "完工验收与关闭", PRODUCTION, _acceptance),
              issue_lane=LEADER, prework_lane=LEADER, acceptance_lane=PRODUCTION, after_issue=[])
    return with_documentation(b.to_xml(), "excavation_permit", DOC)


def add(bpmn: dict, dmn_files: dict, forms: dict) -> None:
    from library import dmn
    forms.update(FORMS)
    dmn_files["excavation_limits.dmn"] = limits_dmn(dmn)
    bpmn["excavation_permit.bpmn"] = excavation_permit()
