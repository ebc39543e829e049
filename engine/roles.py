"""Roles of the plant and how BPMN lane names map to them.

Lanes are roles: a designer names a lane either with the role code
(``supervision``), a Chinese name from :data:`LANE_ALIASES` (``安全监督``), or
both (``安全监督 (supervision)``).
"""
from __future__ import annotations

import re

ROLES: dict[str, str] = {
    "worker": "作业人员",
    "team_leader": "班组长",
    "production": "生产",
    "supervision": "安全监督",
    "maintenance": "设备维修",
    "emergency": "应急",
    "department_head": "部门负责人",
    "plant_leader": "厂领导",
    "designer": "流程设计",
    "admin": "管理员",
}

LANE_ALIASES: dict[str, str] = {
    **{cn: code for code, cn in ROLES.items()},
    "作业": "worker", "作业人员": "worker", "工人": "worker",
    "班长": "team_leader", "当班班长": "team_leader",
    "生产部门": "production", "生产单位": "production", "作业单位": "production",
    "监督": "supervision", "安全监督部门": "supervision", "安全管理部门": "supervision", "安监": "supervision",
    "维修": "maintenance", "设备": "maintenance",
    "应急部门": "emergency",
    "部门领导": "department_head",
    "主管领导": "plant_leader",
}

# Roles that see every department's tasks and instances.
GLOBAL_SCOPE_ROLES = frozenset({"supervision", "plant_leader", "emergency", "admin"})
# Roles that may (re)assign tasks to someone else.
ASSIGNER_ROLES = frozenset({"department_head", "supervision", "admin"})
# Roles that may deploy process definitions.
DEPLOYER_ROLES = frozenset({"designer", "admin"})
# Roles that may cancel running instances.
CANCELLER_ROLES = frozenset({"supervision", "plant_leader", "department_head", "admin"})

_PAREN = re.compile(r"[(（]\s*([a-z_]+)\s*[)）]")


def role_for_lane(lane_name: str | None) -> str | None:
    """The role a lane stands for, or None when the name maps to no known role."""
    if not lane_name:
        return None
    name = lane_name.strip()
    if name.lower() in ROLES:
        return name.lower()
    m = _PAREN.search(name)
    if m and m.group(1) in ROLES:
        return m.group(1)
    return LANE_ALIASES.get(name)
