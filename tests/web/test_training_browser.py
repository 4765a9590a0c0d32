"""A whole training session in a real browser (Playwright driving Debian's Chromium against a
uvicorn subprocess): the agent starts a scenario, sends four replies (one with a forbidden
phrase), finishes and reads the feedback page; then the timed breathing exercise starts.
Screenshots go to docs/screenshots/ (training-session.png, training-feedback.png).

Skips when Chromium or playwright is missing (ANFU_REQUIRE_ALL=1 turns the skip into a failure);
never downloads a browser."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--lang=zh-CN"]
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "docs" / "screenshots"
PASSWORD = "Lan-Hua-Shan-2024!"
REPLIES = [
    "您好，非常抱歉让您等了这么久，换作是我也会着急，您慢慢说，我在听。",
    "这是我们公司的规定。",
    "请问家里有没有老人或者特殊情况？停电对您影响大吗？",
    "我马上为您派抢修人员，2小时内到达现场，工单号我短信发给您。",
]

sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (never `playwright install`)")
if not os.path.exists(CHROMIUM):
    pytest.skip("Debian's chromium is missing: apt-get install -y chromium fonts-noto-cjk", allow_module_level=True)

pytestmark = pytest.mark.timeout(300)
expect = sync_api.expect


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, seeded_centre: Path):
    data = tmp_path_factory.mktemp("anfu-training-live")
    port = _free_port()
    log = open(data / "server.log", "w")
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "web" / "live_server.py"), str(data), str(port),
                             str(seeded_centre)], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 240  # the seed takes a while on a busy machine
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError((data / "server.log").read_text())
        try:
            if (data / "ready").exists() and httpx.get(base + "/signin", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    else:
        proc.kill()
        raise RuntimeError("the server did not start: " + (data / "server.log").read_text())
    yield base
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def test_a_whole_training_session(server: str) -> None:
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(server + "/signin")
        page.fill("#username", "li")
        page.fill("#password", PASSWORD)
        page.click("#signin")
        page.wait_for_load_state("networkidle")

        page.goto(server + "/training")
        assert page.locator("#scenarios tbody tr").count() >= 36
        page.click("#start-power_outage_elderly")
        page.wait_for_selector("#send-reply")
        assert page.locator(".sim-turn.customer").count() == 1
        for n, text in enumerate(REPLIES, start=1):
            page.fill("#reply", text)
            page.click("#send-reply")
            expect(page.locator(".sim-turn.customer")).to_have_count(n + 1)  # the page's CSP forbids eval
        assert page.locator(".sim-turn.agent").count() == 4
        assert page.locator("mark.forbidden").first.inner_text() == "这是我们公司的规定"
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "training-session.png"), full_page=False)

        page.click("#finish")
        page.wait_for_selector("#score")
        assert page.url.endswith("/feedback")
        score = int(page.inner_text("#score"))
        assert 0 <= score <= 100
        items = page.locator("#feedback > li")
        assert items.count() == 4
        assert "服务忌语" in items.nth(1).inner_text() and "更好的说法" in items.nth(1).inner_text()
        assert page.inner_text("#outcome").strip() in ("已解决", "未解决", "客户升级投诉")
        page.screenshot(path=str(SHOTS / "training-feedback.png"), full_page=True)

        # the timed breathing exercise of the after-contact prompt runs in the page
        page.goto(server + "/wellbeing/breathe")
        page.click("#breath-start")
        expect(page.locator("#breath-round")).to_have_text("1")
        expect(page.locator("#breath-phase")).to_have_text("吸气")
        expect(page.locator("#breath-count")).to_have_text("3", timeout=5000)  # a second later
        assert errors == []
        browser.close()
