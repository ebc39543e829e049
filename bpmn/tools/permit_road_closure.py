"""断路安全作业票 (road closure, GB 30871-2022 chapter 12): ``road_closure_permit``.

Not graded by the standard. The application carries the traffic arrangements (12.1: a traffic
organisation plan that keeps fire engines and other emergency vehicles moving, the detour); the
operating unit reviews (SIMOPS) and the safety department approves; on issue, fire/emergency, the
safety department and the units the closure affects are notified, and again when the road reopens.
The shift leader checks signs, barriers and — at night or in rain, snow or fog — the warning lamps
(12.2–12.4) before the road is closed. Every number is in road_closure_rules.dmn.
"""
from __future__ import annotations

from build_library import (LEADER, PRODUCTION, SIMOPS_DECIDE, simops_lookup, SUPERVISION, WORKER, choice, flag,
                           form, number, text, when)
from engine.bpmn_builder import ProcessBuilder
from live_permit import (CLEAR_SIMOPS, acceptance_sub, application_sub, approver_decision, init_script, main_path,
                         pause_path, prework_sub, rules_sub, unit_review_form, unit_review_sub, with_documentation,
                         working_sub)
from special_ops import pausable

DOC = (
    "断路安全作业票，依据 GB 30871-2022 第 12 章（断路作业）及第 4 章。作业前，作业单位会同相关主管部门制定交通"
    "组织方案，保证消防车和其他重要车辆的通行，满足应急救援要求（12.1）；在断路的路口和相关道路上设置交通警示标志，"
    "在作业区附近设置路栏、道路作业警示灯、导向标等（12.2）；白天不超过 2 h、夜间不超过 1 h 即可完工的定点作业，"
    "有现场交通指挥人员且设置了锥形交通路标或路栏（夜间加警示灯）时可不设标志牌（12.3）；夜间或雨、雪、雾天应设置"
    "道路作业警示灯：安全电压，离地 1.0–1.5 m，反映作业区轮廓，150 m 以外清晰可见（12.4）；作业结束后清理现场、"
    "撤除警示标志、恢复通行（12.5）。签发后通知消防/应急、安全部门及受影响单位，恢复通行时再次通知。有效期为企业惯例"
    "（标准未规定），自签发起算（4.16）；数字均在 road_closure_rules.dmn 中可配置。审批：作业单位审核（交叉作业 4.7）→"
    " 安全管理部门审批；审批人到现场（4.11），申请人、审核人不得审批本票。停工指令在签发后每个在办环节暂停作业票。")

FORMS = {
    "road_closure_application.json": form("断路安全作业票申请", {
        "work_content": text("断路原因及作业内容", min_length=2),
        "location_detail": text("断路地段（起止位置）", min_length=2),
        "equipment_id": text("设备位号（按设备停工时据此通知）", min_length=0),
        "work_plan_ref": text("作业计划编号（计划中的特殊作业据此关联）", min_length=0, max_length=200),
        "work_plan_ref_error": text("作业计划编号核对结果", min_length=0, readOnly=True),
        "closure_type": choice("断路方式", [("full", "全封闭"), ("half", "半幅封闭")]),
        "detour_route": text("绕行路线", min_length=2),
        "emergency_access": text("消防车、救护车等应急车辆通行方式（12.1）", min_length=2),
        "traffic_plan_ref": text("交通组织方案编号", min_length=1),
        "affected_units": {"type": "array", "title": "受影响单位（部门编码或人员）", "uniqueItems": True,
                           "items": text("部门编码或人员")},
        "at_night": flag("夜间作业"),
        "bad_weather": flag("雨、雪、雾天"),
        "planned_start": when("计划开始时间"),
        "planned_hours": number("计划断路时长", "小时", minimum=0),
        "traffic_controller": flag("现场设交通指挥人员"),
        "monitor": text("监护人"),
        "hazards": {"type": "array", "title": "作业危害分析：危害因素", "minItems": 1, "items": text("危害因素")},
        "control_measures": {"type": "array", "title": "安全措施", "minItems": 1, "items": text("措施")},
    }, ["work_content", "location_detail", "closure_type", "detour_route", "emergency_access", "traffic_plan_ref",
        "affected_units", "at_night", "bad_weather", "planned_start", "planned_hours", "traffic_controller", "monitor",
        "hazards", "control_measures"]),
    "road_closure_review.json": unit_review_form("作业单位审核（交通组织、交叉作业）", {
        "traffic_plan_checked": flag("交通组织方案保证消防车和其他重要车辆通行（12.1）"),
    }),
    "road_closure_site_check.json": form("断路前现场确认（当班班长）", {
        "site_requirements": text("现场要求", min_length=0, readOnly=True),
        "barriers_cones": {"type": "boolean", "const": True, "title": "作业区附近已设路栏、锥形交通路标、导向标（12.2）"},
        "emergency_route_open": {"type": "boolean", "const": True, "title": "应急车辆通行路线畅通"},
        "monitor_present": {"type": "boolean", "const": True, "title": "监护人在岗（4.10）"},
        "signboards": flag("断路路口和相关道路已设交通警示标志牌"),
        "lamps_installed": flag("已设道路作业警示灯（安全电压、反映作业区轮廓）"),
        "lamp_height_m": number("警示灯离地高度（未设填 0）", "m", minimum=0, maximum=10),
        "site_check_error": text("现场确认结果", min_length=0, readOnly=True),
    }, ["barriers_cones", "emergency_route_open", "monitor_present", "signboards", "lamps_installed",
        "lamp_height_m"]),
    "road_closure_progress.json": pausable(form("断路作业", {
        "action": choice("作业状态", [("complete", "作业完成，申请恢复通行")]),
        "note": text("说明", min_length=0),
    }, ["action"])),
    "road_closure_acceptance.json": form("断路完工验收、恢复通行", {
        "site_cleared": {"type": "boolean", "const": True, "title": "现场已清理（12.5）"},
        "signs_removed": {"type": "boolean", "const": True, "title": "警示标志、路栏已撤除"},
        "road_open": {"type": "boolean", "const": True, "title": "道路已恢复通行"},
        "comment": text("验收意见", min_length=0),
    }, ["site_cleared", "signs_removed", "road_open"]),
}

_NOTIFY = '["emergency", "safety"]'


def rules_dmn(dmn) -> str:
    return dmn(
        "road_closure_rules", "断路作业要求（GB 30871-2022 第 12 章）",
        [{"label": "夜间", "expr": "at_night", "type": "boolean"},
         {"label": "雨、雪、雾天", "expr": "bad_weather", "type": "boolean"}],
        [("须设警示灯", "lamps_required", "boolean"), ("警示灯最低高度（m）", "lamp_min_height_m", "number"),
         ("警示灯最高高度（m）", "lamp_max_height_m", "number"), ("警示灯可见距离（m）", "lamp_visible_m", "number"),
         ("可不设标志牌的定点作业时长上限（小时）", "short_job_max_hours", "number"),
         ("作业票有效期（小时）", "validity_hours", "number"),
         ("须通知的部门（编码）", "notify_departments", "string")],
        [(["True", "-"], ["True", "1.0", "1.5", "150", "1", "24", _NOTIFY],
          "夜间：警示灯离地 1.0–1.5 m、150 m 外可见（12.4）；定点作业 ≤ 1 h 可不设标志牌（12.3）"),
         (["False", "True"], ["True", "1.0", "1.5", "150", "2", "24", _NOTIFY], "雨、雪、雾天：设警示灯（12.4）"),
         (["False", "False"], ["False", "1.0", "1.5", "150", "2", "24", _NOTIFY],
          "白天：定点作业 ≤ 2 h 且有交通指挥可不设标志牌（12.3）；有效期 24 h 为企业惯例")],
        hit_policy="FIRST")


ASSESS = (
    "signboards_required = not (traffic_controller and planned_hours <= short_job_max_hours)\n"
    "site_requirements = (('须设交通警示标志牌' if signboards_required else\n"
    "                      '短时定点作业（≤ ' + str(short_job_max_hours) + ' h）有交通指挥：可不设标志牌') +\n"
    "    '；' + ('须设警示灯，离地 ' + str(lamp_min_height_m) + '–' + str(lamp_max_height_m) + ' m，' +\n"
    "           str(lamp_visible_m) + ' m 外清晰可见' if lamps_required else '白天、天气良好：可不设警示灯'))\n"
    + CLEAR_SIMOPS)

SITE_EVAL = (
    "problems = []\n"
    "if signboards_required and not signboards:\n    problems.append('须在断路路口和相关道路设交通警示标志牌（12.2、12.3）')\n"
    "if lamps_required and not lamps_installed:\n    problems.append('夜间或雨、雪、雾天须设道路作业警示灯（12.4）')\n"
    "if lamps_installed and not (lamp_min_height_m <= lamp_height_m <= lamp_max_height_m):\n"
    "    problems.append('警示灯离地 ' + str(lamp_height_m) + ' m，应为 ' + str(lamp_min_height_m) + '–' +\n"
    "                    str(lamp_max_height_m) + ' m（12.4）')\n"
    "site_check_error = '；'.join(problems)\nsite_checked = not problems\ndel problems")


def _approval(b, apply: str, approved: str, rejected: str) -> str:
    b.user("rc_approval", "安全管理部门审批", lane=SUPERVISION, form="permit_review.json",
           props={"not_completed_by": "rc_apply,rc_unit_review", "priority": "80"})
    approver_decision(b, "rc_approval", "approval_gw", "审批结论", "rc_approval", approved=approved, apply=apply,
                      rejected=rejected)
    return "rc_approval"


def _checks(b) -> None:
    b.user("rc_site_check", "断路前现场确认", lane=LEADER, form="road_closure_site_check.json", props={"priority": "80"})
    b.script("site_eval", "判定现场确认", SITE_EVAL, lane=LEADER)
    b.chain("rc_site_check", "site_eval", "rc_dispatch")


def _work(b, done: str) -> None:
    b.user("rc_work", "断路作业", lane=WORKER, form="road_closure_progress.json",
           props={"due": "parse_datetime(permit_expires_at)", "priority": "60"})
    b.xor("work_gw", "作业状态", default="Flow_rc_work_done", lane=WORKER)
    b.chain("rc_work", "work_gw")
    pause_path(b, "rc_", "work_gw")
    b.flow("work_gw", done, flow_id="Flow_rc_work_done", name="完成")


def _acceptance(b, close: str) -> str:
    b.user("rc_acceptance", "完工验收、恢复通行", lane=PRODUCTION, form="road_closure_acceptance.json",
           props={"not_completed_by": "rc_apply", "priority": "70"})
    b.service("notify_open", "通知恢复通行", "notify/people",
              {"recipients": "notify_departments + affected_units",
               "message": "'恢复通行：' + location_detail"},
              lane=PRODUCTION, result_variable="notify_open_result", retries=3, backoff=5)
    b.chain("rc_acceptance", "notify_open", close)
    return "rc_acceptance"


def road_closure_permit() -> str:
    """Drawn as hot work is: 申请与审批 ⊞, 签发 and the closure notice, 断路前检查 ⊞ (dispatch, site
    check), 断路作业 ⊞ (stop-work, expiry), then the acceptance and the reopening notice (live_permit.py)."""
    b = ProcessBuilder("road_closure_permit", "断路安全作业票")
    b.lane(WORKER).lane(PRODUCTION).lane(SUPERVISION).lane(LEADER)
    rules = rules_sub("rc_", "标志牌与警示灯要求", [WORKER], [
        ("rule", "rules", "断路作业要求", "road_closure_rules", WORKER),
        ("script", "assess", "确定标志牌与警示灯要求", ASSESS, WORKER)])
    unit = unit_review_sub(
        "rc_", "road_closure_permit", title="单位审核与交叉作业", review="rc_unit_review",
        review_name="作业单位审核", form="road_closure_review.json", not_completed_by="rc_apply",
        check="simops_check", check_name="交叉作业冲突检查",
        check_script=simops_lookup("road_closure_permit") + "simops_conflicts = active_permits_in_area\n" + SIMOPS_DECIDE,
        gw_name="作业单位结论")
    application = application_sub(
        "rc_", "road_closure_permit", title="断路申请与审批", lanes=[WORKER, PRODUCTION, SUPERVISION],
        init=init_script("road_closure", "site_check_error = ''\n"),
        apply="rc_apply", apply_name="断路作业申请（含交通组织）", apply_form="road_closure_application.json",
        rules=rules, unit=unit, unit_gw_name="作业单位结论", approval=_approval)
    prework = prework_sub("rc_", title="断路前检查", checks=["rc_site_check"], add_checks=_checks)
    working = working_sub("rc_", title="断路作业与暂停", lanes=[WORKER, LEADER], work="rc_work", add_work=_work)
    b.service("notify_closure", "通知消防/应急及受影响单位", "notify/people",
              {"recipients": "notify_departments + affected_units",
               "message": "'断路通知：' + location_detail + '，绕行：' + detour_route + '；应急车辆：' + emergency_access"},
              lane=SUPERVISION, result_variable="notify_result", retries=3, backoff=5)
    main_path(b, "rc_", start_name="申请断路", application=application, prework=prework, working=working,
              acceptance=acceptance_sub("rc_", "验收、恢复通行与关闭", PRODUCTION, _acceptance),
              issue_lane=SUPERVISION, prework_lane=LEADER, acceptance_lane=PRODUCTION, after_issue=["notify_closure"])
    return with_documentation(b.to_xml(), "road_closure_permit", DOC)


def add(bpmn: dict, dmn_files: dict, forms: dict) -> None:
    from library import dmn
    forms.update(FORMS)
    dmn_files["road_closure_rules.dmn"] = rules_dmn(dmn)
    bpmn["road_closure_permit.bpmn"] = road_closure_permit()
