"""The sample plant loaded by ``anjian seed`` (and ``make run``).

A small hazardous-chemical plant: two production units, a tank farm, safety,
maintenance, emergency and leadership, and one user for every role.
"""
from __future__ import annotations

DEPARTMENTS = [
    ("workshop-1", "一车间 (合成装置)", "production"),
    ("storage", "储运部", "production"),
    ("safety", "安全环保部", "supervision"),
    ("maintenance", "设备维修部", "maintenance"),
    ("emergency", "应急救援中心", "emergency"),
    ("leadership", "厂部", "leadership"),
]

AREAS = [
    ("unit-1", "合成装置区", "workshop-1", "fire_explosion"),
    ("tank-farm-3", "三号罐区", "storage", "major_hazard_tank_farm"),
    ("pipe-rack-a", "A 管廊", "workshop-1", "pipe_rack"),
    ("warehouse", "备件仓库", "maintenance", "general"),
]

USERS = [
    ("worker1", "张工 (作业人员)", ["worker"], "workshop-1"),
    ("leader1", "李班长", ["team_leader"], "workshop-1"),
    ("prod1", "王主任 (生产)", ["production"], "workshop-1"),
    ("prod2", "赵工 (储运生产)", ["production"], "storage"),
    ("head1", "刘部长 (车间负责人)", ["department_head"], "workshop-1"),
    ("safety1", "陈工 (安全监督)", ["supervision"], "safety"),
    ("safety2", "周工 (安全监督)", ["supervision"], "safety"),
    ("maint1", "吴工 (设备维修)", ["maintenance"], "maintenance"),
    ("emerg1", "郑队长 (应急)", ["emergency"], "emergency"),
    ("boss1", "孙厂长 (主管领导)", ["plant_leader"], "leadership"),
    ("designer1", "流程设计员", ["designer"], None),
    ("admin", "系统管理员", ["admin"], None),
]


def seed_sample_plant(platform, password: str) -> list[dict]:
    """Create the sample departments, areas and users (idempotent)."""
    for code, name, kind in DEPARTMENTS:
        platform.users.ensure_department(code, name, kind)
    for code, name, dept, cls in AREAS:
        platform.users.ensure_area(code, name, dept, cls)
    out = []
    for username, name, roles, dept in USERS:
        platform.users.add_user(username, password, roles, dept, name, replace=True)
        out.append({"username": username, "name": name, "roles": roles, "department": dept})
    return out


DEMO_PASSWORD = "anjian-demo"

# What each demo user does in the hot-work walkthrough (bpmn/README.md), printed by `make run`.
DEMO_PARTS = {
    "worker1": "applies for a hot-work permit (发起申请 → 动火作业), works, completes",
    "prod1": "approves the application on site, accepts the finished work",
    "leader1": "records the gas analysis, checks the site",
    "safety1": "supervision board: permits, alerts, escalations, one-click stop-work",
    "boss1": "fusion report and integrated assessment",
    "designer1": "uploads, validates and deploys BPMN",
    "admin": "users, departments, areas, connectors, incidents",
}


def demo_banner(url: str, password: str = DEMO_PASSWORD) -> str:
    """The first lines `make run` prints: where to open the workspace and who to log in as."""
    lines = [
        f"Anjian workspace: {url}   (open it on a phone or a desktop; API docs: {url}api/docs)",
        f"Demo users, password {password}; a hot-work permit end to end: worker1 → prod1 → leader1 → worker1 → prod1",
    ]
    for username, name, roles, _dept in USERS:
        part = DEMO_PARTS.get(username)
        if part:
            lines.append(f"  {username:10} {part}  [{name}]")
    lines.append("The data hub holds a marked demo year of this plant, analysed for the last full month (report: "
                 f"{url}#/report); `.venv/bin/anjian hub demo --remove` removes exactly that data.")
    lines.append("The sample plant's MES simulator runs beside it (http://127.0.0.1:8900, log var/mes-simulator.log); "
                 "the data hub syncs its work orders every 15 min.")
    return "\n".join(lines)
