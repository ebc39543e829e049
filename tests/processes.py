"""BPMN used by the tests, built with engine.bpmn_builder (real XML with lanes and DI)."""
from __future__ import annotations

import json

from engine.bpmn_builder import ProcessBuilder

APPLY_FORM = json.dumps({
    "type": "object",
    "required": ["content", "workers"],
    "properties": {
        "content": {"type": "string", "title": "作业内容", "minLength": 2},
        "workers": {"type": "integer", "title": "作业人数", "minimum": 1},
        "start": {"type": "string", "format": "date-time", "title": "开始时间"},
    },
}, ensure_ascii=False)

REVIEW_FORM = json.dumps({
    "type": "object",
    "required": ["approved"],
    "properties": {"approved": {"type": "boolean", "title": "同意"}, "comment": {"type": "string"}},
}, ensure_ascii=False)


def permit_process(key="permit", *, name="作业许可 (测试)", start_variables=("area",)) -> str:
    """A permit-shaped process: apply → team leader → review → approve → accept (5 user tasks)."""
    b = ProcessBuilder(key, name)
    b.lane("production").lane("team_leader").lane("supervision").lane("plant_leader")
    b.start(variables=list(start_variables))
    b.user("apply", "申请", lane="production", form="apply.json", props={"priority": "60"})
    b.user("site_check", "现场确认", lane="team_leader", props={"due": "PT2H"})
    b.user("review", "审核", lane="supervision", form="review.json",
           props={"not_completed_by": "apply", "due": "PT4H", "priority": "80"})
    b.xor("approved_gw", "同意?", default="Flow_rejected")
    b.user("approve", "批准", lane="plant_leader", props={"not_completed_by": "apply,review"})
    b.user("accept", "验收", lane="supervision", props={"not_completed_by": "apply"})
    b.end("end", "关闭")
    b.end("rejected", "驳回")
    b.chain("start", "apply", "site_check", "review", "approved_gw")
    b.flow("approved_gw", "approve", condition="approved == True", flow_id="Flow_approved")
    b.flow("approved_gw", "rejected", flow_id="Flow_rejected")
    b.chain("approve", "accept", "end")
    return b.to_xml()


def permit_files(key="permit", **options) -> dict[str, str]:
    return {f"{key}.bpmn": permit_process(key, **options), "apply.json": APPLY_FORM, "review.json": REVIEW_FORM}


def loop_process(key="looper", passes_var="limit") -> str:
    """A script-only loop of three nodes per pass (the DESIGN.md depth hazard)."""
    b = ProcessBuilder(key, "循环")
    b.lane("production")
    b.start(variables=[passes_var]).script("init", "初始化", "n = 0").script("inc", "加一", "n = n + 1")
    b.script("note", "记录", "last = n")
    b.xor("more", "继续?", default="Flow_done").end()
    b.chain("start", "init", "inc", "note", "more")
    b.flow("more", "inc", condition=f"n < {passes_var}", flow_id="Flow_again")
    b.flow("more", "end", flow_id="Flow_done")
    return b.to_xml()


def timer_process(key="timed", duration="PT1H") -> str:
    """One user task with an interrupting timer boundary that escalates."""
    b = ProcessBuilder(key, "超时升级")
    b.lane("production").lane("department_head")
    b.start().user("work", "整改", lane="production")
    b.timer_boundary("overdue", "超时", "work", "duration", repr(duration))
    b.user("escalated", "督办", lane="department_head")
    b.end("end").end("end2", "升级结束")
    b.chain("start", "work", "end")
    b.chain("overdue", "escalated", "end2")
    return b.to_xml()


def suspendable_process(key="suspendable") -> str:
    """Work with an interrupting stop_work boundary → suspended task; waits for restart after."""
    b = ProcessBuilder(key, "可停工作业")
    b.lane("production").lane("supervision")
    b.start(variables=["area"]).user("work", "作业", lane="production")
    b.message_boundary("stopped", "停工", "work", "stop_work")
    b.user("handle_stop", "停工处置", lane="supervision")
    b.message_catch("wait_restart", "等待复工", "restart")
    b.user("resume", "复工作业", lane="production")
    b.end("end").end("end2", "复工完成")
    b.chain("start", "work", "end")
    b.chain("stopped", "handle_stop", "wait_restart", "resume", "end2")
    return b.to_xml()


def message_started_process(key="on_alert") -> str:
    """Started by an 'alert' message; the payload lands in the variable ``alert``, the declared
    correlation values (area, department) are its start variables."""
    b = ProcessBuilder(key, "预警处置 (测试)")
    b.lane("supervision")
    b.start("start", "收到预警", message="alert", variables=["area", "department"]).user("handle", "处置", lane="supervision").end()
    b.chain("start", "handle", "end")
    return b.to_xml()


def thrower_process(key="stopper") -> str:
    """Throws stop_work for an area (one-click stop)."""
    b = ProcessBuilder(key, "一键停工 (测试)")
    b.lane("supervision")
    b.start().user("order", "下达停工", lane="supervision")
    b._add(__import__("engine.bpmn_builder", fromlist=["Node"]).Node(
        "throw", "intermediateThrowEvent", "通知停工",
        body='<bpmn:messageEventDefinition messageRef="Message_stop_work"><bpmn:extensionElements>'
             '<spiffworkflow:messagePayload>{"area": area, "reason": reason}</spiffworkflow:messagePayload>'
             '</bpmn:extensionElements></bpmn:messageEventDefinition>'))
    b.messages["stop_work"] = "Message_stop_work"
    b.end()
    b.chain("start", "order", "throw", "end")
    return b.to_xml()


def service_process(key="svc", operator="plant_test/echo", *, retries=None, backoff=None, param="'unit-' + str(n)") -> str:
    """start → set n → service call → user task reading the result → end."""
    b = ProcessBuilder(key, "服务任务 (测试)")
    b.lane("production")
    b.start().script("prep", "准备", "n = 1")
    b.service("call", "调用", operator, {"value": param}, result_variable="reply", retries=retries, backoff=backoff)
    b.user("read", "查看结果", lane="production").end()
    b.chain("start", "prep", "call", "read", "end")
    return b.to_xml()
