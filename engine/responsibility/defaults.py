"""The default responsibility lists (version 1), from the mission's duties per post.

Each duty names the library tasks that fulfil it as ``(process_key, bpmn_id)``
patterns (``*`` matches anything). Plants change them by publishing a new
version (``PUT /api/v1/duties/<role>``); old versions stay for the record.
"""
from __future__ import annotations


def _t(*pairs: str) -> list[dict]:
    out = []
    for pair in pairs:
        key, _, bpmn = pair.partition("/")
        out.append({"process_key": key, "bpmn_id": bpmn or "*"})
    return out


DEFAULT_LISTS: dict[str, dict] = {
    "supervision": {"title": "安全监督部门责任清单", "duties": [
        ("plan", "制定监督计划", "按风险等级和融合分析的重点事项编制监督检查计划", _t()),
        ("supervise", "现场监督检查", "在作业时间窗内到场检查，记录检查情况与违章", _t("work_plan/supervision_check")),
        ("warn", "预警与督办", "隐患分级指派、预警处置、三级督办", _t("hazard_rectification/classify",
                                                                    "*/level3_task", "*/handle")),
        ("accept", "整改验收", "隐患整改和复工的现场验收、销号", _t("hazard_rectification/verify",
                                                               "*/restart_acceptance", "*/accept", "*/review")),
    ]},
    "production": {"title": "生产单位责任清单", "duties": [
        ("follow", "落实安全要求", "按作业计划和许可要求组织生产，落实分析建议",
         _t("work_plan/submit_plan", "work_plan/execute", "work_plan/change_plan", "fusion_recommendation/implement",
            "*/apply")),
        ("self_inspect", "自查自改", "隐患整改、临时管控措施、重大隐患治理方案、停工整改",
         _t("hazard_rectification/rectify", "hazard_rectification/interim", "hazard_rectification/plan",
            "*/stop_rectify", "*/restart_application")),
        ("report", "风险上报", "发现风险和隐患及时上报", _t("hazard_rectification/report")),
        ("cooperate", "配合监督", "按督办要求落实事项，配合监督检查", _t("*/duty")),
    ]},
    "maintenance": {"title": "设备维修部门责任清单", "duties": [
        ("fix_equipment", "设备隐患整改", "整改设备类隐患", _t("hazard_rectification/rectify",
                                                              "hazard_rectification/interim")),
        ("sync_anomalies", "同步设备异常", "设备异常与检修信息及时同步到数据中台", _t()),
    ]},
    "team_leader": {"title": "班组长责任清单", "duties": [
        ("onsite", "现场监督", "作业前现场确认许可与措施", _t("*/site_check")),
        ("remind", "提醒", "班前提醒作业风险和要求", _t()),
        ("report", "报告", "发现问题及时上报", _t("hazard_rectification/report")),
    ]},
    "worker": {"title": "作业人员责任清单", "duties": [
        ("comply", "遵章作业", "遵守作业许可和操作规程", _t("*/work", "*/resume")),
        ("cooperate", "配合", "配合检查，上报发现的隐患", _t("hazard_rectification/report")),
    ]},
    "department_head": {"title": "部门负责人责任清单", "duties": [
        ("escalation", "二级督办", "督促本部门逾期事项落实", _t("*/level2_task", "*/escalated")),
    ]},
    "plant_leader": {"title": "主管领导责任清单", "duties": [
        ("approve", "审批", "审批重大隐患治理方案和特级作业", _t("hazard_rectification/plan_approval", "*/approve")),
    ]},
}
