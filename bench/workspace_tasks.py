"""Time to a usable 我的任务 page in the workspace, in a real browser (Debian's chromium).

Measured from the click on 登录 to the task list being on screen with its data (the summary line and,
when there are tasks, the first rows), against a real `anjian serve` (embedded mode, SQLite, the library
deployed, the sample plant seeded, as `make run`):

1. the sample plant as seeded, worker1 with one open task;
2. worker1 with 1,000 open tasks (1,000 hot-work applications started over the API): the page shows the
   first 50 (soonest due first) and a "more" button; also timed: one "more" (50 → 100 rows).

Each figure is the median (and the range) of --runs fresh browser contexts (no cache), at phone size
(360x740) and desktop size (1366x900).

    .venv/bin/python bench/workspace_tasks.py            # --runs 7 --tasks 1000
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, SIZES  # noqa: E402
from tests.live_server import PASSWORD, live_server  # noqa: E402


def start_applications(server, n: int, first: int = 0) -> float:
    token = server.login("worker1")
    headers = {"Authorization": f"Bearer {token}"}

    def one(i):
        with requests.Session() as s:
            for _ in range(5):  # a retryable 409 (SQLite busy) is tried again
                r = s.post(f"{server.url}/api/v1/process-instances", headers=headers, timeout=60,
                           json={"process_key": "hot_work_permit", "business_key": f"BENCH-{i:05d}",
                                 "variables": {"area": "warehouse"}})
                if r.status_code != 409 or not r.json().get("retryable"):
                    break
            r.raise_for_status()

    started = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(one, range(first, first + n)))
    return time.perf_counter() - started


def time_login_to_tasks(browser, url: str, size: str, expect_rows: bool, more: bool = False) -> tuple[float, float | None]:
    context = browser.new_context(locale="zh-CN", **SIZES[size])
    page = context.new_page()
    page.goto(f"{url}/")
    page.wait_for_selector("input[name=username]")
    page.fill("input[name=username]", "worker1")
    page.fill("input[name=password]", PASSWORD)
    t0 = time.perf_counter()
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=task-summary]")
    if expect_rows:
        page.wait_for_selector(".task-list tbody tr")
    usable = time.perf_counter() - t0
    more_s = None
    if more:
        rows = page.locator(".task-list tbody tr").count()
        t1 = time.perf_counter()
        page.click(".task-list .more button")
        page.wait_for_function("n => document.querySelectorAll('.task-list tbody tr').length > n", arg=rows)
        more_s = time.perf_counter() - t1
    context.close()
    return usable, more_s


def report(label: str, values: list[float]) -> str:
    ms = sorted(v * 1000 for v in values)
    return f"{label}: median {statistics.median(ms):.0f} ms (min {ms[0]:.0f}, max {ms[-1]:.0f}, n={len(ms)})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--tasks", type=int, default=1000)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, live_server(Path(tmp), secret="bench-workspace-secret") as server, \
            sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # The sample plant: worker1 has one application of their own to fill.
        start_applications(server, 1)
        for size in ("phone", "desktop"):
            time_login_to_tasks(browser, server.url, size, True)  # warm the server's caches once
            runs = [time_login_to_tasks(browser, server.url, size, True)[0] for _ in range(args.runs)]
            print(report(f"sample plant, {size}: login → usable 我的任务 (1 task)", runs), flush=True)

        took = start_applications(server, args.tasks - 1, first=1)
        total = requests.get(f"{server.url}/api/v1/tasks?mine=true&page_size=1", timeout=30,
                             headers={"Authorization": f"Bearer {server.login('worker1')}"}).json()["total"]
        print(f"({args.tasks - 1} applications started over the API in {took:.0f} s; worker1 has {total} open tasks)")
        api_ms = []
        headers = {"Authorization": f"Bearer {server.login('worker1')}"}
        for _ in range(20):
            t0 = time.perf_counter()
            requests.get(f"{server.url}/api/v1/tasks?mine=true&sort=due&order=asc&page=1&page_size=50",
                         headers=headers, timeout=30).raise_for_status()
            api_ms.append(time.perf_counter() - t0)
        print(report(f"GET /api/v1/tasks?mine=true&sort=due page of 50 of {total}", api_ms))
        for size in ("phone", "desktop"):
            results = [time_login_to_tasks(browser, server.url, size, True, more=True) for _ in range(args.runs)]
            print(report(f"{total} open tasks, {size}: login → usable 我的任务 (first 50)", [r[0] for r in results]))
            print(report(f"{total} open tasks, {size}: 'more' (50 → 100 rows)", [r[1] for r in results]), flush=True)
        browser.close()


if __name__ == "__main__":
    main()
