"""Steps a person takes in the workspace, for the browser tests (what they click and type)."""
from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")  # the browser contexts' time zone (conftest.py)


def now_local() -> str:
    """Now as a datetime-local input takes it."""
    return datetime.now(TZ).strftime("%Y-%m-%dT%H:%M")


def go(page, path: str) -> None:
    """Open a view through the menu (the phone's menu is behind its ☰ button)."""
    page.wait_for_selector(".app-header")
    toggle = page.locator(".menu-toggle")
    if toggle.is_visible():
        toggle.click()
    page.click(f'#app-nav a[href="#{path}"]')
    page.wait_for_function("p => location.hash.startsWith('#' + p)", arg=path)


def answer(page, form: str, values: dict) -> None:
    """Fill an rjsf form: True/False click 是/否, ('select', label) picks an option, lists fill their
    entries (['a', 'b'] → field_0, field_1), ('when', ...) a datetime-local, anything else is typed."""
    for field, value in values.items():
        fid = f"#{form} #root_{field}"
        if isinstance(value, bool):
            page.locator(f"#{form} #root_{field}-{0 if value else 1}").check()
        elif isinstance(value, tuple) and value[0] == "select":
            page.select_option(fid, label=value[1])
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if page.locator(f"{fid}_{i}").count() == 0:
                    page.locator(f"#{form} #root_{field}").locator("..").get_by_role("button", name=re.compile("添加|Add")).last.click()
                if isinstance(item, tuple) and item[0] == "select":
                    page.select_option(f"{fid}_{i}", label=item[1])
                else:
                    page.fill(f"{fid}_{i}", str(item))
        else:
            page.fill(fid, str(value))


def submit(page, form: str) -> None:
    page.click(f"#{form} button[type=submit]")


def open_task_of(page, instance_id: int, name: str | None = None) -> None:
    """In 我的任务, open the task of an instance (its row shows '#<id>')."""
    go(page, "/tasks")
    page.click(".task-list button.refresh")  # the list polls every 30 s; a person taps 刷新
    row = page.locator(".task-list tbody tr").filter(has_text=re.compile(rf"#{instance_id}(?!\d)"))
    if name:
        row = row.filter(has_text=name)
    row.first.wait_for()
    row.first.click()
    page.wait_for_selector("#task-form, .task-page .form-actions")


def complete_and_return(page, form: str = "task-form") -> None:
    """Submit the task's form and wait for the list with the completion toast."""
    submit(page, form)
    page.wait_for_function("() => location.hash === '#/tasks'")
    page.wait_for_selector(".toast")


def instance_id_on_task_page(page) -> int:
    text = page.locator(".task-facts").inner_text()
    return int(re.search(r"#(\d+)", text).group(1))
