"""`precode serve` in a real browser: Debian's headless chromium, driven by Playwright, reviews
with the keys (1, r, 1, u), reloads, and finds on the page and in `decisions.jsonl` what it did.

Needs Playwright (the `browser` extra) and chromium (`apt-get install chromium`); it never
downloads a browser. Where neither can be had, PRECODE_SKIP_BROWSER=1 skips it; otherwise a
missing browser fails the test."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from pipeline.run_folder.decisions import DecisionLog, fold_decisions
from tests.test_review_support import make_run
from tests.test_serve_support import serving

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
SHOT = Path("/tmp/serve_shot.png")  # a copy for people to look at


def chromium_path() -> str:
    """Debian's chromium; fails (or skips, with PRECODE_SKIP_BROWSER=1) when it cannot run."""
    skip = os.environ.get("PRECODE_SKIP_BROWSER") == "1"
    problem = None
    if importlib.util.find_spec("playwright") is None:
        problem = "Playwright is not installed: pip install -e '.[browser]'"
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if problem is None and not os.access(path, os.X_OK):
        problem = "chromium is not installed: apt-get install chromium (never a download)"
    if problem is None:
        return path
    if skip:
        pytest.skip(f"PRECODE_SKIP_BROWSER=1: {problem}")
    pytest.fail(f"{problem}; or set PRECODE_SKIP_BROWSER=1 to skip the browser tests",
                pytrace=False)


def test_serve_review_in_a_real_browser(tmp_path: Path, fast_config: dict) -> None:
    executable = chromium_path()
    from playwright.sync_api import expect, sync_playwright

    run = make_run(tmp_path / "run", fast_config)
    with serving(run.path, tmp_path, coder="Ann") as server, sync_playwright() as p:
        origin = f"http://127.0.0.1:{server.port}/"
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1360, "height": 820})
            requests: list[str] = []
            errors: list[str] = []
            page.on("request", lambda request: requests.append(request.url))
            page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
            page.on("console", lambda msg: errors.append(f"console: {msg.text}")
                    if msg.type == "error" else None)
            page.set_default_timeout(15_000)
            expect.set_options(timeout=15_000)

            page.goto(server.url)
            assert page.url == origin  # the token was traded for a cookie and left the address
            expect(page.locator("#transcript .segment")).to_have_count(5)  # source s1
            expect(page.locator("#progress")).to_have_text("0 / 10 reviewed")
            expect(page.locator("#coder")).to_have_text("Ann")

            # Accept the first suggestion, reject all on the next, accept on the third, undo.
            decided: list[dict[str, Any]] = []
            for key in ("1", "r", "1"):
                seg = _selected(page)
                decided.append(seg)
                page.keyboard.press(key)
                expect(page.locator(f'.segment[data-segment-id="{seg["id"]}"]')
                       ).to_have_class(_has("reviewed"))
                expect(page.locator(".segment.selected")).not_to_have_attribute(
                    "data-segment-id", seg["id"])  # it went on to the next
                expect(page.locator("#progress")).to_have_text(
                    f"{len(decided)} / 10 reviewed")
            first, second, third = decided
            assert len({first["id"], second["id"], third["id"]}) == 3
            page.keyboard.press("u")
            expect(page.locator(".segment.selected")).to_have_attribute(
                "data-segment-id", third["id"])  # the undone segment, to decide again
            expect(page.locator(".segment.reviewed")).to_have_count(2)
            expect(page.locator("#progress")).to_have_text("2 / 10 reviewed")

            page.reload()
            expect(page.locator("#transcript .segment")).to_have_count(5)
            expect(page.locator("#progress")).to_have_text("2 / 10 reviewed")
            expect(page.locator(".segment.reviewed")).to_have_count(2)
            reviewed = page.locator(".segment.reviewed")
            assert sorted(reviewed.evaluate_all("els => els.map(e => e.dataset.segmentId)")) \
                == sorted([first["id"], second["id"]])
            expect(page.locator(f'.badge[data-badge-for="{second["id"]}"]')
                   ).to_have_text("✓ none")
            expect(page.locator(f'.badge[data-badge-for="{first["id"]}"]')).to_have_text(
                f"✓ {first['names'][0]}")
            # Unreviewed first in the queue: the retracted segment comes up again.
            expect(page.locator(".segment.selected")).to_have_attribute(
                "data-segment-id", third["id"])
            expect(page.locator("#decision")).to_contain_text("Not reviewed yet")
            # Acceptance per code: the first segment's suggestion was confirmed.
            expect(page.locator(f'#acceptance tr[data-code-id="{first["codes"][0]}"]')
                   ).to_contain_text("1 / 1")
            expect(page.locator("#status")).not_to_have_attribute("data-kind", "error")
            page.screenshot(path=str(tmp_path / "serve.png"), full_page=True)
            shutil.copyfile(tmp_path / "serve.png", SHOT)
        finally:
            browser.close()

        # What the page showed is what the server holds.
        with httpx.Client(base_url=server.base,
                          headers={"Authorization": f"token {server.token}"}) as api:
            segments = {s["id"]: s for s in api.get("/api/segments").json()["segments"]}
    assert [s["code"] for s in segments[first["id"]]["suggestions"]] == first["codes"]
    assert [s["code"] for s in segments[second["id"]]["suggestions"]] == second["codes"]

    # The log: the first accepted with its first suggestion (the others rejected), the second
    # all rejected, the third decided and then retracted.
    log = DecisionLog(run.file("decisions.jsonl")).read()
    assert {d.coder for d in log} == {"Ann"}
    standing = {(d.segment_id, d.code_id): d.verdict for d in fold_decisions(log)}
    assert standing == {
        (first["id"], first["codes"][0]): "accept",
        **{(first["id"], code): "reject" for code in first["codes"][1:]},
        **{(second["id"], code): "reject" for code in second["codes"]},
    }
    on_third = [(d.code_id, d.verdict) for d in log if d.segment_id == third["id"]]
    assert on_third == [(third["codes"][0], "accept")] + [
        (code, "reject") for code in third["codes"][1:]] + [
        (code, "retract") for code in third["codes"]]
    assert len(log) == 12

    # Nothing but the server itself was asked for anything, and the page raised no error.
    assert requests and all(url.startswith(origin) for url in requests), requests
    assert errors == []


def _selected(page: Any) -> dict[str, Any]:
    """The selected segment, with the codes (and names) of its suggestions as the panel
    shows them, best first."""
    from playwright.sync_api import expect

    span = page.locator(".segment.selected")
    expect(span).to_have_count(1)
    seg_id = span.get_attribute("data-segment-id")
    expect(page.locator("#seg-text")).to_have_text(span.inner_text())
    items = page.locator("#suggestions li.suggestion")
    expect(items).to_have_count(3)
    codes = items.evaluate_all("els => els.map(e => e.dataset.codeId)")
    names = items.locator(".code-name").all_inner_texts()
    return {"id": seg_id, "codes": codes, "names": names}


def _has(name: str) -> re.Pattern[str]:
    """A class attribute holding the class `name`."""
    return re.compile(rf"(^|\s){name}(\s|$)")
