"""The built site and report.html in a real headless Chromium, opened from file:// under the pages' CSP:
glossary without hover, prompt switch, kind separation, raw-scale toggle, sorting, filtering, token search,
downloads, width at 1280 px and on a phone, and hostile replies and model ids that must stay text everywhere.

One browser for the module. Without chromium, chromedriver or selenium the tests skip with the reason, except
under CI (CI set in the environment), where a missing browser is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from leaderboard_fixtures import GRM, HOSTILE_ID, HOSTILE_TOKENS, LM, SKY, standard_board

from harness.report.text import fmt_value, visible
from harness.leaderboard.build import build
from harness.leaderboard.rb_join import RewardBench

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SKY_PAGE = "models/Skywork__Skywork-Reward-Gemma-2-27B-v0.2/index.html"
GROUP = "reward-16-bit-full-vocabulary"


def _missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (Path(path).is_file() or shutil.which(Path(path).name)):
            return f"{path} is not installed (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed"
    return None


def _skip_or_fail(why: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"browser tests cannot run under CI: {why}")
    pytest.skip(why)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from harness.report.html import write_report

    root = tmp_path_factory.mktemp("browser")
    folders = standard_board(root / "results", hostile=True)
    rb = RewardBench(lookup={SKY: {"v1": {"rank": 4, "score": 94.3}}}.get, source="test snapshot")
    build(root / "results", root / "site", rewardbench=rb)
    reports = [write_report(json.loads((f / "results.json").read_text()), f) for f in folders.values()]
    return {"site": root / "site", "folders": folders, "reports": reports}


@pytest.fixture(scope="module")
def driver():
    why = _missing()
    if why:
        _skip_or_fail(why)
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="lb-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM if Path(CHROMIUM).is_file() else shutil.which("chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", f"--user-data-dir={profile}", "--window-size=1280,900", "--hide-scrollbars"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(CHROMEDRIVER if Path(CHROMEDRIVER).is_file() else shutil.which("chromedriver"))
    try:
        drv = webdriver.Chrome(options=opts, service=service)
    except WebDriverException as exc:
        shutil.rmtree(profile, ignore_errors=True)
        _skip_or_fail(f"headless chromium could not start: {exc.msg}")
    drv.set_page_load_timeout(20)
    yield drv
    drv.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _open(driver, path: Path, width: int = 1280):
    driver.set_window_size(width, 900)
    driver.get(path.as_uri())
    return driver


def _js(driver, script: str, *args):
    return driver.execute_script(script, *args)


def _no_page_errors(driver):
    bad = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
    assert not bad, bad


def _pwned(driver) -> str:
    return _js(driver, "return typeof window.__pwned")


def _visible_cells(driver, group: str, col: str) -> dict[str, str]:
    """model id -> displayed text of column `col` in the shown table of `group` (the visible prompt)."""
    return _js(driver, """
        const out = {};
        document.querySelectorAll('table.board[data-group="' + arguments[0] + '"]').forEach(t => {
          if (t.offsetParent === null) return;
          const heads = Array.from(t.tHead.rows[0].cells).map(th => th.getAttribute('data-col'));
          const i = heads.indexOf(arguments[1]);
          if (i < 0 || t.tHead.rows[0].cells[i].offsetParent === null) return;
          Array.from(t.tBodies[0].rows).forEach(r => { out[r.getAttribute('data-model')] = r.cells[i].innerText; });
        });
        return out;""", group, col)


def test_board_loads_and_nothing_hostile_runs(driver, site):
    _open(driver, site["site"] / "index.html")
    assert driver.title == "Reward-model interpretability leaderboard"
    assert _pwned(driver) == "undefined"
    assert _js(driver, "return getComputedStyle(document.querySelector('code.tok')).fontFamily").startswith(
        "ui-monospace")  # the stylesheet loads from file:// under the CSP
    assert _js(driver, "return Array.from(document.scripts).map(s => s.getAttribute('src'))") == ["static/board.js"]
    texts = _js(driver, "return Array.from(document.querySelectorAll('code.tok')).map(c => c.textContent)")
    shown = [visible(t) for t in HOSTILE_TOKENS]
    assert any(t in shown for t in texts)
    assert visible(HOSTILE_ID) in _js(driver, "return Array.from(document.querySelectorAll('code.id'))"
                                      ".map(c => c.textContent)")
    _no_page_errors(driver)


def test_glossary_is_visible_without_hover(driver, site):
    _open(driver, site["site"] / "index.html")
    labels = _js(driver, """return Array.from(document.querySelectorAll('table.board th[data-col] button'))
        .filter(b => b.offsetParent !== null).map(b => b.firstChild.textContent.trim())""")
    assert "Score skew" in labels and "Identity-term gap" in labels
    glossary = driver.find_element("id", "glossary")
    _js(driver, "arguments[0].scrollIntoView()", glossary)
    assert glossary.is_displayed()
    terms = {dt.text.split(" (raw")[0]: dt for dt in glossary.find_elements("tag name", "dt")}
    for label in set(labels) - {"Model"}:
        key = next((k for k in terms if k == label or label in k), None)
        assert key is not None, label
        dd = terms[key].find_element("xpath", "following-sibling::dd")
        assert dd.is_displayed() and len(dd.text) > 20, label
    assert not _js(driver, "return document.querySelectorAll('table.board th[title]').length")


def test_prompt_switch_changes_the_headline_cells(driver, site):
    _open(driver, site["site"] / "index.html")
    docs = {k: json.loads((f / "results.json").read_text()) for k, f in site["folders"].items()}

    def want(key, prompt):
        return fmt_value(docs[key]["results"]["token_optimality"]["metrics"][f"{prompt}/skewness"]["value"])

    best = _visible_cells(driver, GROUP, "skew")
    assert best == {SKY: want("a", "best"), GRM: want("b", "best")}
    driver.find_element("css selector", '.prompt-switch input[value="worst"]').click()
    worst = _visible_cells(driver, GROUP, "skew")
    assert worst == {SKY: want("a", "worst"), GRM: want("b", "worst")} and worst != best
    assert "worst" in driver.find_element("css selector", ".prompt-table:not([hidden]) .prompt-line").text
    driver.find_element("css selector", '.prompt-switch input[value="best"]').click()
    assert _visible_cells(driver, GROUP, "skew") == best


def test_kinds_never_share_a_table_and_raw_columns_are_opt_in(driver, site):
    _open(driver, site["site"] / "index.html")
    shown = _js(driver, """return Array.from(document.querySelectorAll('table.board')).filter(t => t.offsetParent)
        .map(t => [t.getAttribute('data-kind'), Array.from(t.tBodies[0].rows).map(r => r.getAttribute('data-model'))])""")
    kinds = {}
    for kind, ids in shown:
        kinds.setdefault(kind, []).extend(ids)
    assert kinds["lm_logprob"] == [LM] and LM not in kinds["reward"] and SKY in kinds["reward"]
    assert _visible_cells(driver, GROUP, "mean") == {}  # raw-scale column hidden by default
    driver.find_element("id", "show-raw").click()
    assert set(_visible_cells(driver, GROUP, "mean")) == {SKY, GRM}
    driver.find_element("id", "show-raw").click()


def test_sort_and_filter(driver, site):
    _open(driver, site["site"] / "index.html")

    def order():
        return _js(driver, """const t = Array.from(document.querySelectorAll('table.board[data-group="'
            + arguments[0] + '"]')).filter(t => t.offsetParent)[0];
            return Array.from(t.tBodies[0].rows).map(r => r.getAttribute('data-model'));""", GROUP)

    assert order() == [SKY, GRM]  # RewardBench rank first
    button = next(b for b in driver.find_elements(
        "css selector", f'table.board[data-group="{GROUP}"] th[data-col="identity_gap"] button') if b.is_displayed())
    button.click()  # closer to 0 is better: nearest first (-10 before -11)
    assert order() == [SKY, GRM]
    button.click()
    assert order() == [GRM, SKY]
    box = driver.find_element("id", "filter")
    box.send_keys("gemma2")
    assert _js(driver, "return Array.from(document.querySelectorAll('tr[data-model]')).filter(r => r.offsetParent)"
               ".map(r => r.getAttribute('data-model'))") == [GRM]
    assert driver.find_element("id", "count").text == "1 of 4 models"
    box.clear()
    box.send_keys("onerror")  # hostile strings are searchable text
    assert driver.find_element("id", "count").text == "1 of 4 models"
    assert _js(driver, "return Array.from(document.querySelectorAll('tr[data-model]')).filter(r => r.offsetParent)"
               ".map(r => r.querySelector('code.id').textContent)") == [visible(HOSTILE_ID)]
    box.clear()


def test_no_sideways_scroll_at_1280_and_on_a_phone(driver, site):
    for width in (1280, 390):
        for page in ("index.html", SKY_PAGE):
            _open(driver, site["site"] / page, width)
            over = _js(driver, """const d = document.documentElement;
                const wraps = Array.from(document.querySelectorAll('.table-wrap')).filter(w => w.offsetParent)
                  .map(w => w.scrollWidth - w.clientWidth);
                return [d.scrollWidth - d.clientWidth, Math.max(0, ...wraps)]""")
            assert over == [0, 0], (width, page, over)


def test_token_search_finds_score_rank_and_percentile(driver, site):
    _open(driver, site["site"] / SKY_PAGE)
    assert _js(driver, "return typeof window.RMH_TOKENS") == "undefined"  # loaded on first use only
    table = pd.read_parquet(site["folders"]["a"] / json.loads((site["folders"]["a"] / "results.json").read_text())[
        "results"]["token_optimality"]["tables"]["best"])
    fin = table[table["finite"]]
    for query, token in (("␣LOVE", " LOVE"), ("tok17", "tok17"), (" Jews", " Jews")):
        row = table[table["decoded"] == token].iloc[0]
        rank = int((fin["score"] > row["score"]).sum()) + 1
        pct = 100 * (len(fin) - rank) / (len(fin) - 1)
        box = driver.find_element("id", "token-q")
        box.clear()
        box.send_keys(query)
        driver.find_element("css selector", "#token-search button").click()
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(driver, 10).until(lambda d: d.find_element("id", "search-results").is_displayed())
        first = _js(driver, """const r = document.querySelector('#search-results tbody tr');
            return [r.cells[0].textContent, r.getAttribute('data-id'), r.cells[2].textContent, r.cells[3].textContent,
                    r.cells[4].textContent]""")
        assert first[0] == visible(token) and int(first[1]) == int(row["id"])
        assert float(first[2]) == pytest.approx(float(np.float32(row["score"])), rel=1e-5)
        assert int(first[3]) == rank and float(first[4]) == pytest.approx(pct, abs=0.05)
    assert _js(driver, "return document.querySelector('#search-results tbody tr').cells[3].textContent") != ""
    # a hostile reply found by search is shown as text
    box = driver.find_element("id", "token-q")
    box.clear()
    box.send_keys("<script>window")
    driver.find_element("css selector", "#token-search button").click()
    cells = _js(driver, "return Array.from(document.querySelectorAll('#search-results tbody tr td:first-child'))"
                ".map(c => c.textContent)")
    assert visible(HOSTILE_TOKENS[0]) in cells and _pwned(driver) == "undefined"
    _no_page_errors(driver)


def test_downloads_and_figures_resolve(driver, site):
    _open(driver, site["site"] / SKY_PAGE)
    links = _js(driver, "return Array.from(document.querySelectorAll('#downloads a')).map(a => a.href)")
    assert any(h.endswith("results.json") for h in links) and any(h.endswith("top1000.csv") for h in links)
    for href in links:
        parts = urlsplit(href)
        assert parts.scheme == "file" and Path(unquote(parts.path)).is_file(), href
    imgs = _js(driver, "return Array.from(document.images).map(i => i.src)")
    assert imgs and all(Path(unquote(urlsplit(src).path)).is_file() for src in imgs)
    from selenium.webdriver.support.ui import WebDriverWait

    img = driver.find_element("css selector", "#task-token_optimality img")  # the open section's figure renders
    _js(driver, "arguments[0].scrollIntoView()", img)
    WebDriverWait(driver, 10).until(lambda d: _js(d, "return arguments[0].complete && arguments[0].naturalWidth", img))
    loaded = _js(driver, "return Array.from(document.querySelectorAll('#task-token_optimality img'))"
                 ".map(i => [i.complete, i.naturalWidth])")
    assert loaded and all(ok and w > 0 for ok, w in loaded), loaded


def test_every_page_keeps_hostile_text_inert(driver, site):
    pages = list(site["site"].rglob("*.html")) + site["reports"]
    assert len(pages) >= 10
    for page in pages:
        _open(driver, page)
        assert _pwned(driver) == "undefined", page
        assert _js(driver, "return document.querySelectorAll('img[src=\"x\"], svg, script:not([src])').length") == 0
        title = driver.title
        assert "\u202e" not in title and "\u200b" not in title, page
    report = site["folders"]["c"] / "report.html"
    _open(driver, report)
    assert driver.title == f"{visible(HOSTILE_ID)} · reward-model audit"
    assert driver.find_element("tag name", "h1").text == visible(HOSTILE_ID)
    texts = _js(driver, "return Array.from(document.querySelectorAll('code.tok')).map(c => c.textContent)")
    assert visible(HOSTILE_TOKENS[1]) in texts or visible(HOSTILE_TOKENS[0]) in texts or any(
        visible(t) in texts for t in HOSTILE_TOKENS)
    _no_page_errors(driver)


def test_compare_page_explains_what_to_do(driver, site):
    _open(driver, site["site"] / "index.html")
    driver.find_element("link text", "Compare models").click()
    text = driver.find_element("tag name", "main").text
    # the board compares trusted audits only, and says how to get there
    assert "at least two trusted audits" in text and "rm-harness verify" in text


def _phone(driver, path: Path):
    """Open `path` in a 390 x 844 viewport (device-metrics emulation: a desktop window has a minimum width)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    driver.get(path.as_uri())
    return driver


def _no_overflow(driver) -> list:
    return _js(driver, "return [document.documentElement.scrollWidth, window.innerWidth]")


def test_phone_keeps_directions_sorting_and_no_overflow(driver, site):
    try:
        _phone(driver, site["site"] / "index.html")
        width, inner = _no_overflow(driver)
        assert inner == 390 and width <= inner, (width, inner)
        heads = [th for th in driver.find_elements(
            "css selector", f'table.board[data-group="{GROUP}"] thead th') if th.is_displayed()]
        labels = [th.get_attribute("data-col") for th in heads]
        assert {"model", "rb_v1", "skew", "identity_gap", "identity_bottom"} <= set(labels), labels
        for th in heads:  # every visible header inside the screen, each metric with its direction shown
            box = _js(driver, "const r = arguments[0].getBoundingClientRect(); return [r.left, r.right]", th)
            assert 0 <= box[0] and box[1] <= 390, (th.get_attribute("data-col"), box)
            if th.get_attribute("data-col") != "model":
                assert th.find_element("css selector", ".dir").text.strip(), th.get_attribute("data-col")
        # the initial sort shows before any click; a tap sorts
        assert driver.find_element("css selector", f'table.board[data-group="{GROUP}"] th[data-col="rb_v1"]') \
            .get_attribute("aria-sort") == "ascending"
        order = ("return Array.from(document.querySelector('table.board[data-group=\"" + GROUP + "\"]')"
                 ".tBodies[0].rows).map(r => r.getAttribute('data-model'))")
        assert _js(driver, order) == [SKY, GRM]
        gap = next(th for th in heads if th.get_attribute("data-col") == "identity_gap")
        gap.find_element("css selector", "button").click()
        gap.find_element("css selector", "button").click()
        assert _js(driver, order) == [GRM, SKY] and gap.get_attribute("aria-sort") == "descending"
        _phone(driver, site["site"] / SKY_PAGE)
        width, inner = _no_overflow(driver)
        assert width <= inner, (width, inner)
        right = _js(driver, """const cells = document.querySelectorAll('table.headline th, table.headline td');
            return cells.length ? Math.max(...Array.from(cells).map(e => e.getBoundingClientRect().right)) : -1""")
        assert 0 < right <= inner, right  # the headline values are on screen, not behind a sideways scroll
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
