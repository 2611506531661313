"""Screenshot the chat simulator after a short demo exchange (the README's docs/simulator.png).

Starts the real app on a free local port with a throw-away database, drives the page in headless Chromium
(Playwright, using the system's /usr/bin/chromium) and saves a phone-sized screenshot:

    PYTHONPATH=. python scripts/screenshot_sim.py --out docs/simulator.png
"""

from __future__ import annotations

import argparse
import asyncio
import re
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from playwright.async_api import Page, async_playwright, expect

from bot.app import build_app
from bot.core import texts
from bot.core.channels.sim.access import CSRF_HEADER
from bot.core.clock import FakeClock
from bot.core.config import load_config

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Talk that the bot stays out of, so the group looks lived-in (王芳 is u02 in the demo data).
CHATTER = ("u02", "各位，本周五下午的学习日安排在三楼会议室，记得带学习笔记。")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "simulator.png")
    parser.add_argument("--config", type=Path, default=ROOT / "config.toml")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--width", type=int, default=420)
    parser.add_argument("--height", type=int, default=820)
    parser.add_argument("--max-height", type=int, default=1400, help="grow the page up to this to show the whole talk")
    parser.add_argument("--scale", type=float, default=2)
    return parser.parse_args()


async def say(page: Page, user: str, text: str) -> None:
    """Type text in the page as user and wait until the bot's answer to it is shown."""
    await page.select_option("#who", user)
    bot_lines = page.locator('.msg[data-sender="bot"]')
    before = await bot_lines.count()
    await page.fill("#text", text)
    await page.press("#text", "Enter")
    await expect(bot_lines).to_have_count(before + 1)


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config = load_config(args.config, env={})
        config = config.replace(database={"url": f"sqlite+aiosqlite:///{tmp}/yizhan.db"}, scheduler={"enabled": False})
        # A fixed morning today, so the page shows one plain "09:30" time line.
        clock = FakeClock(datetime.now(config.tz).replace(hour=9, minute=30, second=0, microsecond=0))
        # handler_cancellation: a closed page ends its event stream now, so shutdown does not wait for it.
        runner = web.AppRunner(build_app(config, clock=clock), handler_cancellation=True)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        base = f"http://{host}:{port}"
        try:
            # As the page does: load it for the session cookie and its CSRF token, then post.
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
                async with http.get(f"{base}/") as resp:
                    found = re.search(r'<meta name="yizhan-csrf" content="([^"]+)">', await resp.text())
                    assert found, "the page gave no session"
                body: dict[str, Any] = {"chat": config.demo.chat, "user": CHATTER[0], "text": CHATTER[1]}
                headers = {CSRF_HEADER: found.group(1)}
                async with http.post(f"{base}/api/sim/messages", json=body, headers=headers) as resp:
                    resp.raise_for_status()
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
                context = await browser.new_context(
                    viewport={"width": args.width, "height": args.height},
                    device_scale_factor=args.scale,
                    locale="zh-CN",
                    timezone_id=str(config.tz),
                )
                page = await context.new_page()
                await page.goto(base + "/")
                await expect(page.locator("#status")).to_have_text("")
                # The demo's study-day reminder (sent at start) is the first line; then what a new user tries.
                await expect(page.locator('.msg[data-sender="bot"]')).to_have_count(1)
                await say(page, "u01", texts.CMD_HELP[0])
                await say(page, "u01", texts.CMD_STUDY_CHECK_IN[0])
                await say(page, "u00", texts.CMD_WHOAMI[0])
                await page.locator("#text").blur()
                # The help menu grows with the features: make the phone taller (within reason) to show it all.
                hidden = await page.eval_on_selector("#log", "log => log.scrollHeight - log.clientHeight")
                if hidden > 0:
                    height = min(args.height + hidden, max(args.max_height, args.height))
                    await page.set_viewport_size({"width": args.width, "height": height})
                    await page.eval_on_selector("#log", "log => { log.scrollTop = log.scrollHeight; }")
                args.out.parent.mkdir(parents=True, exist_ok=True)
                await page.screenshot(path=str(args.out))
                await browser.close()
        finally:
            await runner.cleanup()
    print(f"saved {args.out} ({args.out.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
