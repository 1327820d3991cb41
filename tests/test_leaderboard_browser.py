"""The built site in a real headless Chromium, opened from file://: sorting, filtering, links, figures, and
hostile token strings that must stay text (no script runs, the text is visible as written).

One browser for the whole module; skipped with a reason when chromium or chromedriver is missing.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from leaderboard_fixtures import HOSTILE_TOKENS, standard_board  # noqa: E402

from leaderboard.build import build, visible  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SKY = "Skywork/Skywork-Reward-Gemma-2-27B-v0.2"
GRM = "Ray2333/GRM-gemma2-2B-rewardmodel-ft"
LOCAL = "/home/user/models/my-local-rm"


def _missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (Path(path).is_file() or shutil.which(Path(path).name)):
            return f"{path} is not installed (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed"
    return None


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser")
    standard_board(root / "results", hostile=True)
    build(root / "results", root / "site")
    return root / "site"


@pytest.fixture(scope="module")
def driver():
    why = _missing()
    if why:
        pytest.skip(why)
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="lb-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM if Path(CHROMIUM).is_file() else shutil.which("chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", f"--user-data-dir={profile}", "--window-size=1400,1000"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(CHROMEDRIVER if Path(CHROMEDRIVER).is_file() else shutil.which("chromedriver"))
    try:
        drv = webdriver.Chrome(options=opts, service=service)
    except WebDriverException as exc:
        shutil.rmtree(profile, ignore_errors=True)
        pytest.skip(f"headless chromium could not start: {exc.msg}")
    drv.set_page_load_timeout(20)
    yield drv
    drv.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _open(driver, path: Path):
    driver.get(path.as_uri())
    return driver


def _rows(driver) -> list[str]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#board tbody tr')).map(r => r.getAttribute('data-model'))")


def _visible_rows(driver) -> list[str]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#board tbody tr'))"
        ".filter(r => r.offsetParent !== null).map(r => r.getAttribute('data-model'))")


def _click(driver, element) -> None:
    """A real click, after centring the element (the sticky model column may cover a header at the left edge)."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'center', inline: 'center'})", element)
    element.click()


def _no_page_errors(driver):
    logs = driver.get_log("browser")
    bad = [e for e in logs if e.get("level") == "SEVERE"]
    assert not bad, bad


def _pwned(driver) -> str:
    return driver.execute_script("return typeof window.__pwned")


def test_index_loads_scripts_and_nothing_hostile_runs(driver, site):
    _open(driver, site / "index.html")
    assert driver.title == "Reward-model interpretability leaderboard"
    assert _pwned(driver) == "undefined"
    assert driver.execute_script("return document.querySelectorAll('#board tbody tr').length") == 3
    # CSS from static/ applied (file:// relative link works under the page's CSP)
    assert driver.execute_script(
        "return getComputedStyle(document.querySelector('code.tok')).fontFamily").startswith("ui-monospace")
    assert driver.execute_script("return document.scripts.length") == 2
    assert driver.execute_script("return document.querySelectorAll('img').length") == 0
    _no_page_errors(driver)


def test_hostile_tokens_are_visible_as_text(driver, site):
    from selenium.webdriver.common.by import By

    _open(driver, site / "index.html")
    chips = driver.execute_script(
        "return Array.from(document.querySelectorAll('tr[data-model=\"' + arguments[0] + '\"] td.tokens code.tok'))"
        ".map(c => c.textContent)", SKY)
    assert chips[:5] == [visible(t) for t in HOSTILE_TOKENS[:5]]
    cell = driver.find_element(By.CSS_SELECTOR, "td.tokens code.tok")
    assert cell.text == "<script>window.__pwned=1</script>" and cell.is_displayed()
    assert _pwned(driver) == "undefined"


def test_click_header_sorts_and_reverses(driver, site):
    from selenium.webdriver.common.by import By

    _open(driver, site / "index.html")
    assert _rows(driver) == [SKY, GRM, LOCAL]  # default: RewardBench rank, unranked last
    button = driver.find_element(By.CSS_SELECTOR, 'th[data-col="token_optimality/best/skewness"] button')
    _click(driver, button)  # descriptive metric: largest first, missing last
    assert _rows(driver) == [GRM, SKY, LOCAL]
    th = driver.find_element(By.CSS_SELECTOR, 'th[data-col="token_optimality/best/skewness"]')
    assert th.get_attribute("aria-sort") == "descending"
    _click(driver, button)
    assert _rows(driver) == [SKY, GRM, LOCAL]
    assert th.get_attribute("aria-sort") == "ascending"
    # higher-is-better metric with a missing value: best first, missing last in both directions
    asym = driver.find_element(By.CSS_SELECTOR, 'th[data-col="framing_asymmetry/best/asymmetry"] button')
    _click(driver, asym)
    assert _rows(driver) == [SKY, GRM, LOCAL]
    _click(driver, asym)
    assert _rows(driver) == [GRM, SKY, LOCAL]
    # lower-is-better RewardBench rank: ascending first; text column: alphabetical
    _click(driver, driver.find_element(By.CSS_SELECTOR, 'th[data-col="rb_rank"] button'))
    assert _rows(driver) == [SKY, GRM, LOCAL]
    _click(driver, driver.find_element(By.CSS_SELECTOR, 'th[data-col="model"] button'))
    assert _rows(driver) == [LOCAL, GRM, SKY]
    _no_page_errors(driver)


def test_filter_hides_rows(driver, site):
    from selenium.webdriver.common.by import By

    _open(driver, site / "index.html")
    box = driver.find_element(By.ID, "filter")
    box.send_keys("gemma2")
    assert _visible_rows(driver) == [GRM]
    assert driver.find_element(By.ID, "count").text == "1 of 3 models"
    box.clear()
    box.send_keys("␣everything")  # the visible form of a token
    assert _visible_rows(driver) == [LOCAL]
    box.clear()
    box.send_keys("pwned")  # hostile strings are searchable text
    assert _visible_rows(driver) == [SKY]
    box.clear()
    box.send_keys("no such model")
    assert _visible_rows(driver) == []
    assert driver.find_element(By.ID, "count").text == "0 of 3 models"
    driver.execute_script("var b = document.getElementById('filter'); b.value = ''; "
                          "b.dispatchEvent(new Event('input'));")
    assert _visible_rows(driver) == [SKY, GRM, LOCAL]


def test_model_link_page_figures_and_tokens(driver, site):
    from selenium.webdriver.common.by import By

    _open(driver, site / "index.html")
    driver.find_element(By.LINK_TEXT, SKY).click()
    assert driver.current_url.endswith("/models/Skywork__Skywork-Reward-Gemma-2-27B-v0.2.html")
    assert driver.find_element(By.TAG_NAME, "h1").text == SKY
    widths = driver.execute_script(
        "return Array.from(document.images).map(i => [i.getAttribute('src'), i.complete, i.naturalWidth])")
    assert len(widths) == 2
    assert all(complete and width > 0 for _, complete, width in widths), widths
    chips = driver.execute_script("return Array.from(document.querySelectorAll('code.tok')).map(c => c.textContent)")
    for t in HOSTILE_TOKENS:
        assert visible(t) in chips, t
    assert _pwned(driver) == "undefined"
    _no_page_errors(driver)
    driver.find_element(By.PARTIAL_LINK_TEXT, "leaderboard").click()
    assert driver.current_url.endswith("/index.html")


def test_compare_page(driver, site):
    from selenium.webdriver.common.by import By

    _open(driver, site / "index.html")
    driver.find_element(By.LINK_TEXT, "Compare models").click()
    assert "rm-harness compare" in driver.find_element(By.TAG_NAME, "main").text
    _no_page_errors(driver)
