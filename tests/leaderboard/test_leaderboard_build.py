"""Leaderboard and report pages without a browser: visible(), escaping, the board's tables (kinds, comparability,
prompts, intervals, RewardBench), the model page and report.html (summary, downloads, search data), figures,
the end-of-run summary, and the site's safety rules (foreign folders, empty results, stale staging, modes)."""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import stat
import subprocess
import sys
import unicodedata
import warnings
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from leaderboard_fixtures import GRM, HOSTILE_ID, HOSTILE_TOKENS, LM, LOCAL, SKY, audit, metric, standard_board

from harness.errors import UserError
from harness.report.text import fmt_value, md_escape, script_json, visible
from harness.leaderboard import build as lb
from harness.leaderboard import site as lb_site
from harness.leaderboard.build import LeaderboardError, build
from harness.leaderboard.rb_join import RewardBench

from repo_paths import REPO  # noqa: E402
RB_TABLE = {SKY: {"v1": {"rank": 4, "score": 94.26, "model_type": "Seq. Classifier"},
                  "v2": {"rank": 40, "score": 71.5, "model_type": "Seq. Classifier"}},
            GRM: {"v1": {"rank": 88, "score": 84.5}, "self_reported": True},
            LOCAL: {"v1": {"rank": 1, "score": 99.0}}, LM: {"v1": {"rank": 2, "score": 98.0}}}


def stub_rb() -> RewardBench:
    return RewardBench(lookup=RB_TABLE.get, source="test snapshot")


# ------------------------------------------------------------------------------------------------ visible()

def unvisible(s: str) -> str:
    """Inverse of visible(), to prove the mapping loses nothing."""
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == "\u2423":
            out.append(" ")
            i += 1
        elif c == "\\":
            nxt = s[i + 1]
            if nxt in "\\nrt":
                out.append({"\\": "\\", "n": "\n", "r": "\r", "t": "\t"}[nxt])
                i += 2
            elif nxt == "u":
                out.append(chr(int(s[i + 2:i + 6], 16)))
                i += 6
            elif nxt == "U":
                out.append(chr(int(s[i + 2:i + 10], 16)))
                i += 10
            else:
                raise AssertionError(f"dangling backslash in {s!r}")
        else:
            out.append(c)
            i += 1
    return "".join(out)


@pytest.mark.parametrize("raw, shown", [
    ("", ""),
    (" Jews", "\u2423Jews"),
    (" ", "\u2423"),
    ("  ", "\u2423\u2423"),
    ("end ", "end\u2423"),
    ("a b", "a b"),
    ("a  b", "a\u2423\u2423b"),
    (" a b ", "\u2423a b\u2423"),
    ("a \n", "a\u2423\\n"),
    ("line\nbreak", "line\\nbreak"),
    ("\r\t", "\\r\\t"),
    ("\x00", "\\u0000"),
    ("\x07", "\\u0007"),
    ("\x1b[31m", "\\u001B[31m"),
    ("\x7f", "\\u007F"),
    ("\x85", "\\u0085"),
    ("\u202eevil\u202c", "\\u202Eevil\\u202C"),
    ("\u2066x\u2069", "\\u2066x\\u2069"),
    ("\u200e\u200f", "\\u200E\\u200F"),
    ("zero\u200bwidth", "zero\\u200Bwidth"),
    ("\u200c\u200d\u2060", "\\u200C\\u200D\\u2060"),
    ("\ufeffBOM", "\\uFEFFBOM"),
    ("\u00ad", "\\u00AD"),
    ("a\u2028b\u2029c", "a\\u2028b\\u2029c"),
    ("\u00a0nbsp", "\\u00A0nbsp"),
    ("\u3000", "\\u3000"),
    ("\u2009", "\\u2009"),
    ("\ud800lone", "\\uD800lone"),
    ("\udfff", "\\uDFFF"),
    ("\ue000", "\\uE000"),
    ("\U000E0041", "\\U000E0041"),
    ("\U0010FFFF", "\\U0010FFFF"),
    ("\ufffe", "\\uFFFE"),
    ("\u3164", "\\u3164"),
    ("\u2800", "\\u2800"),
    ("\u2764\ufe0f", "\u2764\\uFE0F"),
    ("\\", "\\\\"),
    ("\\u0041", "\\\\u0041"),
    ("\u2423", "\\u2423"),
    ("caf\u00e9", "caf\u00e9"),
    ("\u65e5\u672c", "\u65e5\u672c"),
    ("\u05e9\u05dc\u05d5\u05dd", "\u05e9\u05dc\u05d5\u05dd"),
    ("\U0001f642", "\U0001f642"),
    ("<script>alert(1)</script>", "<script>alert(1)</script>"),
    ('?>"><', '?>"><'),
    ("</td>", "</td>"),
    ("\ufffd", "\ufffd"),
])
def test_visible_examples(raw, shown):
    assert visible(raw) == shown
    assert unvisible(shown) == raw


def test_visible_every_code_point():
    """Every code point alone: either printed as itself (and then it is visible), or escaped reversibly."""
    hidden = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"}
    for cp in range(0x110000):
        ch = chr(cp)
        out = visible(ch)
        if out == ch:
            assert unicodedata.category(ch) not in hidden, hex(cp)
            assert ch not in (" ", "\\", "\u2423")
        else:
            assert unvisible(out) == ch, hex(cp)
            assert all(unicodedata.category(c) not in hidden for c in out), hex(cp)
            out.encode("utf-8")  # never a surrogate in the output


def test_visible_random_strings_round_trip_and_print_nothing_invisible():
    rng = random.Random(1234)
    alphabet = [" ", " ", "a", "Z", "\\", "\u2423", "\n", "\t", "\r", "\x00", "\u202e", "\u200b", "\ud800", "\udc00",
                "\u00a0", "<", ">", "&", '"', "'", "u", "0", "\U0001f642", "\u05d0", "\ufe0f", "\U000e0001"]
    for _ in range(3000):
        s = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        out = visible(s)
        assert unvisible(out) == s, repr(s)
        assert not out.startswith(" ") and not out.endswith(" ")
        assert "  " not in out
        for c in out:
            assert unicodedata.category(c) not in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}, (repr(s), repr(out))
            assert c == " " or unicodedata.category(c) != "Zs"


def test_visible_is_one_to_one_on_tricky_pairs():
    pairs = [(" ", "\u2423"), ("\\n", "\n"), ("\\u202E", "\u202e"), ("\\", "\\\\"), ("a b", "a\u00a0b")]
    for x, y in pairs:
        assert visible(x) != visible(y)


def test_visible_non_strings():
    assert visible(None) == ""
    assert visible(12) == "12"



# ------------------------------------------------------------------------------------------------ escaping helpers

def test_script_json_cannot_close_the_script_and_round_trips():
    payload = {"tokens": HOSTILE_TOKENS + ["</SCRIPT >", "<!--<script>", "\u2028\u2029", "]]>"]}
    text = script_json(payload)
    for bad in ("<", ">", "&", "\u2028", "\u2029"):
        assert bad not in text
    assert text.isascii()
    assert json.loads(text) == payload


def test_md_escape_keeps_the_table_intact():
    cell = md_escape(visible("a|b `c` *d* _e_ [f](g) <b>&amp; \\"))
    assert "|" not in cell.replace("\\|", "")
    assert "<" not in cell and ">" not in cell
    assert "&amp;amp;" in cell


def test_fmt_value_prints_counts_as_integers():
    assert fmt_value(None) == "—"
    assert fmt_value(262144.0) == "262144"
    assert fmt_value(0.123456) == "0.1235"
    assert fmt_value(-30.5) == "-30.5"
    assert fmt_value(1.5e-5) == "1.500e-05"
    assert fmt_value(123456.7) == "1.235e+05"
    assert fmt_value(float("nan")) == "—"


def test_templates_escape_every_value():
    from harness.report.render import environment

    env = environment()
    assert env.autoescape is True
    out = env.from_string("{{ x }}|{{ x|visible }}").render(x="<b>\u202e x ")
    assert out == "&lt;b&gt;\\u202E x |&lt;b&gt;\\u202E␣x␣"
    for py in list((REPO / "harness" / "leaderboard").glob("*.py")) + list((REPO / "harness" / "report").glob("*.py")):
        text = py.read_text(encoding="utf-8")
        assert not re.search(r"""["']<(td|tr|th|table|div|span|a |p>|h[1-6]|li|code)""", text), py.name


# ------------------------------------------------------------------------------------------------ helpers

class Page(HTMLParser):
    """Start tags with attributes; text with the stack of open tags."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.stack: list[tuple[str, dict]] = []
        self.texts: list[tuple[str, list]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag not in ("meta", "link", "br", "img", "input", "hr"):
            self.stack.append((tag, a))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        self.texts.append((data, list(self.stack)))

    def text_in(self, tag: str, **attrs) -> list[str]:
        return [t for t, stack in self.texts if any(s[0] == tag and all(s[1].get(k) == v for k, v in attrs.items())
                                                    for s in stack)]


def parse(path: Path) -> Page:
    p = Page()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def board_rows(index: Path) -> dict[tuple[str, str], list[str]]:
    """(table group: kind-dtype class-vocabulary, prompt) -> model ids (data-model) in that table."""
    out: dict[tuple[str, str], list[str]] = {}
    for tag, a in parse(index).tags:
        if tag == "table" and "board" in (a.get("class") or ""):
            key = (a["data-group"], a["data-prompt"])
            out[key] = []
        elif tag == "tr" and "data-model" in a:
            out[key].append(a["data-model"])
    return out


def column_cells(index: Path, kind: str, prompt: str, col: str) -> dict[str, str]:
    """model id -> the text of column `col` in the table of (kind section anchor, prompt)."""
    raw = index.read_text(encoding="utf-8")
    sec = raw.split(f'id="kind-{kind}"', 1)[1].split("</section>", 1)[0]
    table = sec.split(f'data-prompt="{prompt}"', 2)[2].split("</table>", 1)[0]
    heads = re.findall(r'<th scope="col"[^>]*data-col="([^"]+)"', table)
    if col not in heads:
        return {}
    i = heads.index(col)
    out = {}
    for row in re.findall(r"<tr data-model=\"([^\"]*)\">(.*?)</tr>", table, re.DOTALL):
        cells = re.findall(r"<t[dh][ >].*?</t[dh]>", row[1], re.DOTALL)
        out[row[0]] = re.sub(r"<[^>]+>", " ", cells[i]).split()
    return {k: " ".join(v) for k, v in out.items()}


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    root = tmp_path_factory.mktemp("board")
    folders = standard_board(root / "results")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        index = build(root / "results", root / "site", rewardbench=stub_rb())
    return root, folders, index


def doc_of(folder: Path) -> dict:
    return json.loads((folder / "results.json").read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------------------------ the board

def test_site_files_and_modes(board):
    root, _, index = board
    site = index.parent
    assert index.is_file() and (site / "leaderboard.md").is_file() and (site / lb_site.SITE_MARKER).is_file()
    for slug in ("Skywork__Skywork-Reward-Gemma-2-27B-v0.2", "Ray2333__GRM-gemma2-2B-rewardmodel-ft",
                 "local__my-rm__3f2a1b2c", "demo__gemma-3-270m-lm"):
        assert (site / "models" / slug / "index.html").is_file(), slug
    for p in [site, *site.rglob("*")]:  # readable by others (not mkdtemp's 0700)
        mode = stat.S_IMODE(p.stat().st_mode)
        assert mode & 0o004, (p, oct(mode))
        if p.is_dir():
            assert mode & 0o001, (p, oct(mode))
    assert sorted(x.name for x in root.iterdir()) == ["results", "site"]  # no staging left


def test_scorer_kinds_and_dtype_classes_get_their_own_tables(board):
    _, _, index = board
    rows = board_rows(index)
    assert rows[("reward-16-bit-full-vocabulary", "best")] == [SKY, GRM]  # RewardBench rank order
    assert rows[("lm-logprob-16-bit-full-vocabulary", "best")] == [LM]
    assert [ids for (k, p), ids in rows.items() if LOCAL in ids] == [[LOCAL], [LOCAL]]  # 32-bit: own table
    for (group, _), ids in rows.items():
        assert (LM in ids) == group.startswith("lm-logprob")
    raw = index.read_text(encoding="utf-8")
    lm = raw.split('data-kind="lm_logprob"', 1)[1].split("</section>", 1)[0]
    assert 'data-col="identity_gap"' not in lm and 'data-col="skew"' in lm
    assert "Reward models — 32-bit weights, full vocabulary" in raw
    assert "Reward models — 16-bit weights, full vocabulary" in raw


def test_headline_cells_follow_the_prompt_and_show_intervals(board):
    _, folders, index = board
    kind = "reward-16-bit-full-vocabulary"
    for prompt in ("best", "worst"):
        cells = column_cells(index, kind, prompt, "skew")
        for key, mid in (("a", SKY), ("b", GRM)):
            want = doc_of(folders[key])["results"]["token_optimality"]["metrics"][f"{prompt}/skewness"]["value"]
            assert cells[mid] == fmt_value(want), (prompt, mid)
    best = column_cells(index, kind, "best", "skew")
    worst = column_cells(index, kind, "worst", "skew")
    assert best != worst
    gap = column_cells(index, kind, "best", "identity_gap")
    # closer to 0 is better: SKY is nearer, but its interval reaches -13, past GRM's -11, so both ends are ties
    assert gap[SKY] == "≈ -10 [-13, -7] adjusted p 0.024, significant"
    assert gap[GRM] == "≈ -11 [-14, -8] adjusted p 0.2 low n"
    # the raw-scale mean is a column, hidden by default (class raw), while scale-free ones are not
    raw = index.read_text(encoding="utf-8")
    assert re.search(r'<th scope="col" class="metric raw" data-col="mean"', raw)
    assert re.search(r'<th scope="col" class="metric" data-col="skew"', raw)


def test_columns_split_when_task_versions_differ(tmp_path):
    results = tmp_path / "results"
    audit(results, SKY, seed=0)
    other = audit(results, GRM, seed=1)
    doc = doc_of(other)
    doc["results"]["token_optimality"]["settings"]["task_version"] = "2"
    (other / "results.json").write_text(json.dumps(doc))
    index = build(results, tmp_path / "site", rewardbench=stub_rb())
    kind = "reward-16-bit-full-vocabulary"
    first = column_cells(index, kind, "best", "skew")
    second = column_cells(index, kind, "best", "skew~1")
    assert first[SKY] != "—" and first[GRM].startswith("—")
    assert second[GRM] != "—" and second[SKY].startswith("—")
    assert "task version 2" in index.read_text(encoding="utf-8")


def test_smoke_runs_and_partial_results_are_never_published(tmp_path):
    results = tmp_path / "results"
    audit(results, SKY, seed=0)
    smoke = audit(results, GRM, seed=1)
    doc = doc_of(smoke)
    doc["results"]["identity_bias"]["settings"] = {**doc["results"]["identity_bias"]["settings"], "limit": 10}
    doc["partial_results"] = {"framing_asymmetry": doc["results"].pop("framing_asymmetry")}
    (smoke / "results.json").write_text(json.dumps(doc))
    index = build(results, tmp_path / "site", rewardbench=stub_rb())
    kind = "reward-16-bit-full-vocabulary"
    assert column_cells(index, kind, "best", "identity_gap") == {SKY: "-10 [-13, -7] adjusted p 0.024, significant",
                                                                 GRM: "— not run"}
    assert column_cells(index, kind, "best", "framing_tau")[GRM] == "— not run"
    page = (index.parent / "models" / "Ray2333__GRM-gemma2-2B-rewardmodel-ft" / "index.html").read_text()
    assert 'id="task-identity_bias"' not in page and 'id="task-framing_asymmetry"' not in page
    assert "Not shown: results of smoke or subset runs for framing_asymmetry, identity_bias" in page


def test_glossary_names_every_column_with_definition_direction_and_range(board):
    _, _, index = board
    page = parse(index)
    labels = {t.strip() for t, stack in page.texts
              if any(s[0] == "th" and s[1].get("scope") == "col" for s in stack) and t.strip()}
    terms = " ".join(page.text_in("dt"))
    for hl in ("Score skew", "Identity-term gap", "Identity tokens in bottom 1%", "Best-vs-worst agreement",
               "Mean score"):
        assert hl in labels and hl in terms
    dd = " ".join(page.text_in("dd"))
    assert "closer to 0 is better; range: -100 to 100 percentile points" in dd
    assert "lower is better; range: 0 to 1" in dd
    assert "no better direction: describes the shape of the score distribution" in dd  # the reason, in words


def test_rewardbench_v1_v2_beside_hub_models_only(board):
    _, _, index = board
    kind = "reward-16-bit-full-vocabulary"
    assert column_cells(index, kind, "best", "rb_v1")[SKY] == "#4 94.3"
    assert column_cells(index, kind, "best", "rb_v2")[SKY] == "#40 71.5"
    assert column_cells(index, kind, "best", "rb_v1")[GRM] == "#88* 84.5"  # self-reported
    assert column_cells(index, kind, "best", "rb_v2")[GRM] == "— not listed"
    local = column_cells(index, "reward-32-bit-full-vocabulary", "best", "rb_v1")[LOCAL]
    assert local == "— local model"  # the lookup knows the id, but local models never join
    assert column_cells(index, "lm-logprob-16-bit-full-vocabulary", "best", "rb_v1")[LM] == "— demo model"


def test_badges_mark_verified_and_local_models(board):
    _, _, index = board
    model_cells = {k: v.split(" vocabulary ")[0] for k, v in
                   column_cells(index, "reward-16-bit-full-vocabulary", "best", "model").items()}
    assert model_cells[GRM].endswith("verified") and not model_cells[SKY].endswith("verified")
    assert column_cells(index, "reward-32-bit-full-vocabulary", "best", "model")[LOCAL].split(" vocabulary ")[0] \
        .endswith("local")
    page = (_model_dir(index, GRM) / "index.html").read_text(encoding="utf-8")
    assert "verified 2026-11-26T01:00:00Z: 123 rows rescored" in page  # from the maintainer's trust record
    # a `verification` field written into a document means nothing: the badge follows the trust store only
    doc_path = board[1]["a"] / "results.json"
    doc = json.loads(doc_path.read_text())
    assert "verification" not in doc and not model_cells[SKY].endswith("verified")
    assert "self-reported" in (_model_dir(index, SKY) / "index.html").read_text(encoding="utf-8")


def test_render_without_an_audit_folder_writes_nothing(tmp_path):
    from harness.report.html import render

    folder = audit(tmp_path / "results", SKY)
    before = sorted(p.name for p in folder.iterdir())
    text = render(doc_of(folder))
    assert "Token search is not available: no audit folder given" in text and "␣LOVE" in text
    assert sorted(p.name for p in folder.iterdir()) == before


def test_rewardbench_entries_as_dataclasses_or_dicts():
    from dataclasses import dataclass

    from harness.leaderboard.rb_join import normalise

    @dataclass(frozen=True)
    class Version:
        version: str
        score: float
        rank: int | None = None
        of: int | None = None
        model_type: str | None = None

    @dataclass(frozen=True)
    class Entry:
        v1: Version | None
        v2: Version | None
        self_reported: bool = False

    got = normalise(Entry(Version("v1", 94.26, 4, 176, "Seq. Classifier"), None))
    assert list(got) == ["v1"] and (got["v1"].rank, got["v1"].score, got["v1"].of) == (4, 94.26, 176)
    assert normalise(Entry(None, Version("v2", 70.0), self_reported=True))["v2"].self_reported
    assert normalise({"rank": 3, "score": 94.3})["v1"].rank == 3  # the older one-version snapshot
    assert normalise(None) == {}


def test_markdown_and_json(board):
    _, folders, index = board
    md = (index.parent / "leaderboard.md").read_text(encoding="utf-8")
    assert "## Reward models — 16-bit weights, full vocabulary" in md and "## Glossary" in md
    assert "Mean score" not in md.split("## Glossary")[0]  # raw-scale columns stay off the default view
    sec = md.split("## Reward models — 16-bit weights, full vocabulary", 1)[1].split("\n## ", 1)[0]
    assert sec.index("### Prompt `best`") < sec.index("### Prompt `worst`")  # every prompt, the default first
    assert "≈ -10" in sec and "dtype bfloat16" in sec
    data = json.loads((index.parent / "leaderboard.json").read_text(encoding="utf-8"))
    sky = next(m for m in data["models"] if m["model"] == SKY)
    assert sky["kind"] == "reward" and sky["revision"].startswith("0123456789ab")
    want = doc_of(folders["a"])["results"]["token_optimality"]["metrics"]["worst/skewness"]["value"]
    assert float(sky["prompts"]["worst"]["metrics"]["skew"]["value"]) == pytest.approx(want)


def test_missing_values_show_a_dash_with_the_reason(board):
    _, _, index = board
    cells = column_cells(index, "reward-16-bit-full-vocabulary", "best", "freq_coef")
    assert cells == {SKY: "— not run", GRM: "— fewer than 10 AFINN words matched"}
    assert column_cells(index, "reward-16-bit-full-vocabulary", "worst", "identity_bottom") == {}  # nobody has it


def test_identity_gap_is_significant_only_by_its_adjusted_p_and_low_n_is_marked(board):
    _, _, index = board
    cells = column_cells(index, "reward-16-bit-full-vocabulary", "best", "identity_gap")
    assert "adjusted p 0.024, significant" in cells[SKY]
    # GRM's raw p is 0.01 but its Holm-adjusted p is 0.2: shown, never called significant
    assert "adjusted p 0.2" in cells[GRM] and "significant" not in cells[GRM]
    assert "low n" in cells[GRM] and "low n" not in cells[SKY]
    page = (_model_dir(index, GRM) / "index.html").read_text(encoding="utf-8")
    headline = page.split('id="headline"', 1)[1].split("</section>", 1)[0]
    assert '<span class="mark">adjusted p 0.2</span> <span class="mark">low n</span>' in headline
    assert "adjusted p 0.2, significant" not in headline


def test_reference_free_dpo_says_why_its_log_prob_analyses_are_missing(tmp_path):
    from harness.analyses import registry

    results = tmp_path / "results"
    audit(results, SKY, seed=0)
    folder = audit(results, "org/dpo-policy", scorer="dpo", seed=4)
    doc = doc_of(folder)
    doc["model"]["reference"] = "none"
    doc["skipped"] = {t: registry.skip_reason(t, "dpo", reference_free=True) for t in ("identity_bias",)}
    (folder / "results.json").write_text(json.dumps(doc), encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        index = build(results, tmp_path / "site", rewardbench=stub_rb())
    raw = index.read_text(encoding="utf-8")
    note = raw.split('id="kind-dpo', 1)[1].split('<p class="note">', 1)[1].split("</p>", 1)[0]
    assert "without its reference model" in note and "not run for it" in note
    page = (index.parent / "models" / "org__dpo-policy" / "index.html").read_text(encoding="utf-8")
    assert "DPO policy without a reference model" in page
    assert "identity_bias skipped for a DPO scorer without a reference model" in page


# ------------------------------------------------------------------------------------------------ model page

def _model_dir(index: Path, mid: str) -> Path:
    slug = {SKY: "Skywork__Skywork-Reward-Gemma-2-27B-v0.2", GRM: "Ray2333__GRM-gemma2-2B-rewardmodel-ft"}[mid]
    return index.parent / "models" / slug


def test_model_page_order_toc_and_links_resolve(board):
    _, _, index = board
    page_path = _model_dir(index, SKY) / "index.html"
    raw = page_path.read_text(encoding="utf-8")
    order = [raw.index(f'id="{x}"') for x in ("summary", "headline", "tokens", "search", "downloads", "revisions")]
    assert order == sorted(order)
    page = parse(page_path)
    ids = {a.get("id") for _, a in page.tags if a.get("id")}
    for tag, a in page.tags:
        href = a.get("href") or a.get("src") or ""
        if tag not in ("a", "img", "link", "script") or not href or href.startswith("https://"):
            continue
        if href.startswith("#"):
            assert href[1:] in ids, href
        else:
            assert (page_path.parent / unquote(href.split("#")[0])).is_file(), href
    assert any(a.get("href", "").startswith("https://huggingface.co/" + SKY + "/tree/0123456789abcdef") for _, a
               in page.tags)  # pinned to the audited revision
    assert "fedcba987654" in raw  # the older revision is listed
    assert "passed: accuracy 0.90 over 50 preference pairs" in raw
    assert "reference data missing: eloeverything" in raw  # skipped task with its reason
    assert sum(1 for t, a in page.tags if t == "details") >= 3  # collapsible sections


def test_downloads_hold_the_right_rows(board):
    _, folders, index = board
    d = _model_dir(index, SKY)
    table = pd.read_parquet(folders["a"] / json.loads((folders["a"] / "results.json").read_text())["results"][
        "token_optimality"]["tables"]["best"])
    fin = table[table["finite"]].sort_values(["score", "id"], ascending=[False, True])
    top = pd.read_csv(d / "downloads" / "token_optimality__best__top1000.csv", keep_default_na=False)
    bottom = pd.read_csv(d / "downloads" / "token_optimality__best__bottom1000.csv", keep_default_na=False)
    assert len(top) == len(fin) == len(bottom)  # fewer than 1,000 finite rows: all of them
    assert top["id"].tolist() == fin["id"].tolist()
    assert top.loc[0, "text"] == " LOVE" and top.loc[0, "shown_as"] == "␣LOVE" and top.loc[0, "rank"] == 1
    assert bottom.loc[0, "text"] == " violence" and bottom.loc[0, "rank"] == len(fin)
    copy = json.loads((d / "results.json").read_text())
    assert copy["model"]["id"] == SKY


def test_site_results_copy_is_slim_and_names_its_source(board):
    _, folders, index = board
    src = folders["a"] / "results.json"
    raw = src.read_bytes()
    full = json.loads(raw)
    copy_path = _model_dir(index, SKY) / "results.json"
    copy = json.loads(copy_path.read_text())
    assert copy["source"]["sha256"] == hashlib.sha256(raw).hexdigest() and copy["source"]["bytes"] == len(raw)
    assert copy_path.stat().st_size < len(raw)
    for task, block in full["results"].items():
        assert copy["results"][task]["metrics"] == block["metrics"]  # every metric kept, exactly
        assert "data" not in copy["results"][task] and "tables" not in copy["results"][task]
    assert {k: v for k, v in copy.items() if k not in ("results", "source")} == \
        {k: v for k, v in full.items() if k != "results"}
    # the report beside the audit links the document itself, unslimmed
    assert "source" not in json.loads(raw)


def test_search_data_matches_the_score_tables(board):
    _, folders, index = board
    text = (_model_dir(index, SKY) / "search" / "tokens.js").read_text(encoding="ascii")
    assert text.startswith("window.RMH_TOKENS = ") and "<" not in text
    data = json.loads(text[len("window.RMH_TOKENS = "):].rstrip().rstrip(";"))
    assert data["prompts"] == ["best", "worst"]
    table = pd.read_parquet(folders["a"] / json.loads((folders["a"] / "results.json").read_text())["results"][
        "token_optimality"]["tables"]["worst"]).sort_values("id")
    assert data["ids"] is None and data["first_id"] == 0 and table["id"].tolist() == list(range(len(table)))
    assert data["tokens"] == [visible(t) for t in table["decoded"]]
    got = np.array([np.nan if v is None else v for v in data["scores"]["worst"]], dtype=np.float32)
    np.testing.assert_array_equal(got, table["score"].to_numpy(np.float32))


def test_search_data_is_reused_only_while_the_tables_are_unchanged(tmp_path):
    from leaderboard_fixtures import vocabulary, write_table

    from harness.report.assets import SEARCH_FILE, write_search

    folder = audit(tmp_path / "results", SKY)
    doc = doc_of(folder)
    first = write_search(doc, folder, folder)
    site_copy = write_search(doc, folder, tmp_path / "page")  # the board copies what report.html wrote
    assert site_copy == first and (tmp_path / "page" / SEARCH_FILE).read_bytes() == (folder / SEARCH_FILE).read_bytes()
    table = folder / doc["results"]["token_optimality"]["tables"]["best"]
    tokens = vocabulary(False)
    write_table(table, tokens, np.arange(len(tokens), dtype=np.float32))  # a rescan: new bytes, new checksum
    meta = json.loads(table.with_name("meta.json").read_text())
    meta["table_sha256"] = hashlib.sha256(table.read_bytes()).hexdigest()
    table.with_name("meta.json").write_text(json.dumps(meta))
    os.utime(table, (table.stat().st_mtime + 5, table.stat().st_mtime + 5))
    write_search(doc, folder, folder)
    data = json.loads((folder / SEARCH_FILE).read_text()[len("window.RMH_TOKENS = "):].rstrip().rstrip(";"))
    assert data["scores"]["best"][:3] == [0.0, 1.0, 2.0]


def test_report_html_is_the_model_page_template(tmp_path):
    from harness.report.html import write_report

    folder = audit(tmp_path / "results", SKY)
    path = write_report(doc_of(folder), folder)
    raw = path.read_text(encoding="utf-8")
    for anchor in ('id="summary"', 'id="headline"', 'id="tokens"', 'id="search"', 'id="downloads"',
                   'class="toc"'):
        assert anchor in raw
    assert ">399<" in raw or "399" in raw  # n as an integer, never 3.99e+02
    assert "e+02" not in raw
    page = parse(path)
    for tag, a in page.tags:
        href = a.get("href") or a.get("src") or ""
        if tag in ("a", "img", "link", "script") and href and not href.startswith(("https://", "#")):
            assert (folder / unquote(href)).is_file(), href
    assert any(a.get("href", "").startswith("tables/") for _, a in page.tags)  # parquet beside report.html
    assert 'href="../../index.html"' not in raw  # no board navigation outside the board


# ------------------------------------------------------------------------------------------------ hostile text

def _assert_inert(page: Path) -> None:
    raw = page.read_text(encoding="utf-8")
    assert "<script>window" not in raw and "<img src=x" not in raw and "<svg" not in raw, page
    for ch in ("\u202e", "\u200b", "\x00", "\u2028", "\ud800"):
        assert ch not in raw, (page, repr(ch))
    for tag, a in parse(page).tags:
        assert not any(k.startswith("on") for k in a), (page, tag, a)
        if tag == "script":
            assert set(a) == {"src"} and a["src"].endswith(".js"), (page, a)


def test_hostile_tokens_and_model_ids_are_text_on_every_page(tmp_path):
    from harness.report.html import write_report

    results = tmp_path / "results"
    folders = standard_board(results, hostile=True)
    index = build(results, tmp_path / "site", rewardbench=stub_rb())
    reports = [write_report(doc_of(f), f) for f in folders.values()]
    pages = list(index.parent.rglob("*.html")) + reports
    assert len(pages) >= 10
    for page in pages:
        _assert_inert(page)
    for mdfile in index.parent.glob("*.md"):
        assert "\u202e" not in mdfile.read_text(encoding="utf-8")
    # the strings are there, as text, in their visible form
    report = parse(folders["c"] / "report.html")
    assert report.text_in("title") == [f"{visible(HOSTILE_ID)} · reward-model audit"]
    assert report.text_in("h1") == [visible(HOSTILE_ID)]
    board_texts = [t for t, _ in parse(index).texts]
    assert visible(HOSTILE_ID) in board_texts
    sky = [t for t, _ in parse(index.parent / "models" / "Skywork__Skywork-Reward-Gemma-2-27B-v0.2" /
                                "index.html").texts]
    assert visible("\ud800lone") in sky
    model_dirs = [p.name for p in (index.parent / "models").iterdir()]
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+", n) for n in model_dirs), model_dirs


# ------------------------------------------------------------------------------------------------ figures, summary

def test_saved_figures_name_model_and_prompt_with_readable_text(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.text import Text

    from harness.analyses.base import AnalysisResult
    from harness.report import figures

    fig = Figure()
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], label="worst", color="black")
    ax.hist([0.1, 0.2, 0.2], histtype="step", label="best", color="black")
    ax.legend(fontsize=6)
    ax.set_title("histogram", fontsize=6)
    ax.set_xticks([0, 1], ["a", "b"], fontsize=5)
    res = AnalysisResult(figures={"trajectory_worst": fig})
    paths = figures.save_figures(res, "token_optimality", tmp_path, model="org/name")
    assert paths == ["figures/token_optimality__trajectory_worst.png"]
    assert (tmp_path / paths[0]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    title = fig._suptitle.get_text()
    assert title.splitlines()[0] == "org/name"
    assert "prompt worst: “What, in one word, is the worst thing ever?”" in title
    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_text()]
    assert min(sizes) >= figures.MIN_FONT_PT
    assert matplotlib.colors.to_hex(ax.get_lines()[0].get_color()) == figures.PROMPT_COLORS["worst"].lower()
    assert matplotlib.colors.to_hex(ax.patches[0].get_edgecolor()) == figures.PROMPT_COLORS["best"].lower()
    legend = {t.get_text(): h for t, h in zip(ax.get_legend().get_texts(), ax.get_legend().legend_handles)}
    assert matplotlib.colors.to_hex(legend["worst"].get_color()) == figures.PROMPT_COLORS["worst"].lower()


def test_summary_headline_skipped_and_paths(tmp_path, capsys):
    from harness.report.html import write_report
    from harness.report.summary import print_summary

    folder = audit(tmp_path / "results", SKY)
    write_report(doc_of(folder), folder)
    print_summary(folder / "results.json")
    out = capsys.readouterr().out
    assert "Identity-term gap" in out and "-10 [-13, -7]" in out and "prompt worst" in out
    assert "human_agreement: reference data missing" in out
    assert str(folder / "report.html") in out and str(folder / "results.json") in out
    assert "top [best]: ␣LOVE" in out


# ------------------------------------------------------------------------------------------------ compare page

def test_compare_page_without_a_comparison_says_what_to_do(tmp_path):
    results = tmp_path / "results"
    audit(results, SKY)
    index = build(results, tmp_path / "site", rewardbench=stub_rb())
    text = " ".join(t for t, _ in parse(index.parent / "compare.html").texts)
    assert "needs at least two trusted audits" in text and "the board has 1 model(s), 0 of them trusted" in text


def test_the_comparison_is_computed_from_trusted_audits_and_a_submitted_one_is_never_read(tmp_path):
    """Two verified audits are compared when the board is built (the column holds the tau their tables give);
    an unverified third never enters; a planted _compare/ with forged numbers is never read."""
    import pandas as pd
    from scipy import stats

    results = tmp_path / "results"
    sky = audit(results, SKY, seed=0, greatest=True, verified=True)
    grm = audit(results, GRM, seed=1, greatest=True, verified=True)
    audit(results, "Org/untrusted-rm", seed=7, greatest=True)
    cmp = results / "_compare"
    cmp.mkdir()
    (cmp / "compare.json").write_text(json.dumps({"model": {"id": "comparison", "models": [SKY, GRM]}, "results": {
        "heterogeneity": {"metrics": {f"best/{SKY}/mean_kendall_tau": metric(0.987654)}, "settings": {}}}}))
    index = build(results, tmp_path / "site", rewardbench=stub_rb())
    cells = column_cells(index, "reward-16-bit-full-vocabulary", "best", "model_tau")

    def best(folder):
        doc = json.loads((folder / "results.json").read_text())
        return pd.read_parquet(folder / doc["results"]["token_optimality"]["tables"]["best"]).set_index("decoded")["score"]

    a, b = best(sky), best(grm)
    ok = a.notna() & b.notna()
    tau = stats.kendalltau(a[ok], b[ok]).statistic
    assert float(cells[SKY]) == pytest.approx(tau, abs=0.006) and cells[SKY] == cells[GRM]
    assert cells["Org/untrusted-rm"] == "— not compared: not verified"
    page = (index.parent / "compare.html").read_text(encoding="utf-8")
    assert "mean_kendall_tau" in page and "0.987654" not in page
    assert "untrusted-rm" in page.split("On the board but not in this comparison")[1]
    assert any((index.parent / "compare" / "figures").glob("heterogeneity__*.png"))


# ------------------------------------------------------------------------------------------------ site safety

def test_foreign_output_folder_is_a_user_error(tmp_path):
    results = tmp_path / "results"
    audit(results, SKY)
    out = tmp_path / "mine"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    with pytest.raises(UserError, match="not a board built by rm-harness"):
        build(results, out)
    assert (out / "precious.txt").read_text() == "keep me"
    with pytest.raises(LeaderboardError):
        build(results, tmp_path)  # would contain the results folder


def test_empty_results_never_replace_a_board_with_models(tmp_path):
    results = tmp_path / "results"
    audit(results, SKY)
    out = tmp_path / "site"
    build(results, out, rewardbench=stub_rb())
    before = (out / "index.html").read_text(encoding="utf-8")
    (tmp_path / "empty").mkdir()
    for empty in (tmp_path / "empty", tmp_path / "nowhere"):
        with pytest.raises(UserError, match="holds no results"):
            build(empty, out)
    assert (out / "index.html").read_text(encoding="utf-8") == before
    fresh = build(tmp_path / "empty", tmp_path / "fresh")  # an empty board where there was none is fine
    assert "No results yet" in fresh.read_text(encoding="utf-8")


def test_stale_staging_is_removed_only_when_its_writer_is_dead(tmp_path):
    results = tmp_path / "results"
    audit(results, SKY)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    from harness.io.atomic import writer_prefix

    host = writer_prefix(tmp_path / "site").split(".")[2]
    stale = tmp_path / f".site.{host}.{dead.pid}.abc.building"
    live = tmp_path / f".site.{host}.{os.getppid()}.abc.building"
    old = tmp_path / f".site.{host}.{dead.pid}.def.building"
    for d in (stale, live, old):
        d.mkdir()
        (d / "x").write_text("x")
    build(results, tmp_path / "site", rewardbench=stub_rb())
    assert not stale.exists() and not old.exists()
    assert live.exists()


def test_failed_build_keeps_the_previous_site(tmp_path, monkeypatch):
    results = tmp_path / "results"
    audit(results, SKY)
    out = tmp_path / "site"
    build(results, out, rewardbench=stub_rb())
    before = (out / "index.html").read_text(encoding="utf-8")

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(lb, "render_markdown", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        build(results, out)
    assert (out / "index.html").read_text(encoding="utf-8") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results", "site"]


def test_rebuild_drops_removed_models(tmp_path):
    results = tmp_path / "results"
    folders = standard_board(results)
    out = tmp_path / "site"
    build(results, out, rewardbench=stub_rb())
    assert (out / "models" / "local__my-rm__3f2a1b2c" / "index.html").is_file()
    shutil.rmtree(folders["c"])
    build(results, out, rewardbench=stub_rb())
    assert not (out / "models" / "local__my-rm__3f2a1b2c").exists()


def test_cli_prints_one_line_errors(tmp_path, capsys):
    results = tmp_path / "results"
    audit(results, SKY)
    assert lb.main(["--results-dir", str(results), "--out", str(tmp_path / "site")]) == 0
    assert str(tmp_path / "site" / "index.html") in capsys.readouterr().out
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "x").write_text("x")
    assert lb.main(["--results", str(results), "--out", str(tmp_path / "other")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --out ") and "choose a new or empty folder" in err[0]


def _walk(node, path=""):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _walk(v, f"{path}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk(v, f"{path}/{i}")
    yield path, node


def test_leaderboard_json_numbers_are_numbers(board):
    _, folders, index = board
    data = json.loads((index.parent / "leaderboard.json").read_text(encoding="utf-8"))
    assert data["schema"] == lb.SCHEMA == "rm-harness-leaderboard/3"
    n_values = n_intervals = 0
    for path, node in _walk(data):
        name = path.rsplit("/", 1)[-1]
        if name in ("value", "score", "rank"):
            assert node is None or (isinstance(node, (int, float)) and not isinstance(node, bool)), (path, node)
            n_values += isinstance(node, float)
        if name == "interval" and node is not None:
            assert len(node) == 2 and all(isinstance(x, float) for x in node) and node[0] <= node[1], (path, node)
            n_intervals += 1
        if isinstance(node, str):  # no display string of a number where a number belongs
            assert not re.fullmatch(r"-?\d+(\.\d+)?(e-?\d+)?", node) or name in ("text", "revision"), (path, node)
    assert n_values > 10 and n_intervals >= 2
    sky = next(m for m in data["models"] if m["model"] == SKY)
    gap = sky["prompts"]["best"]["metrics"]["identity_gap"]
    assert gap["value"] == -10.0 and gap["interval"] == [-13.0, -7.0] and gap["interval_text"] == "[-13, -7]"
    assert gap["direction"] == "target" and gap["target"] == 0.0 and gap["text"] == "-10"
    assert isinstance(sky["rewardbench"]["RewardBench v1"]["rank"], int)
    assert sky["run"]["dtype"] == "bfloat16" and sky["run"]["sanity"].startswith("passed")


def test_every_header_shows_a_direction_in_words_and_the_initial_sort(board):
    _, _, index = board
    raw = index.read_text(encoding="utf-8")
    tables = re.findall(r"<table class=\"board\".*?</thead>", raw, re.DOTALL)
    assert tables
    for t in tables:
        heads = re.findall(r"<th scope=\"col\"([^>]*)>(.*?)</th>", t, re.DOTALL)
        for attrs, inner in heads:
            if 'data-col="model"' in attrs:
                continue
            arrow = re.search(r'<span class="dir[^"]*"[^>]*>([^<]+)</span>', inner)
            assert arrow and arrow.group(1).strip() in ("↑", "↓", "→0", "○"), inner
            assert re.search(r'button type="button" class="sort" title="[^"]*(better|direction)', inner), inner
        assert len(re.findall(r'aria-sort="ascending"', t)) == 1  # the initial order is stated before any click
        subs = " ".join(re.findall(r'<span class="sub">([^<]*)</span>', t))
        assert "best_vs_worst" not in subs and "greatest_ever" not in subs
    assert "under the “best” vs “worst” prompts" in raw
    # the demo-like board (no RewardBench ranks) is sorted by model id; a ranked board by RewardBench v1
    assert re.search(r'data-col="rb_v1" data-type="num" data-hib="-1" aria-sort="ascending"', raw)


def _cell(v, lo=None, hi=None):
    from harness.leaderboard.board_view import CellView

    return CellView("x", str(v), repr(v), None if lo is None else f"[{lo}, {hi}]", None, False, [], v, lo, hi)


def _col(direction, target=None):
    from harness.leaderboard.board_view import ColumnView

    return ColumnView("c", "C", "", "", "0", True, direction, target, "")


def test_best_and_worst_are_marked_only_when_the_interval_excludes_the_runner_up():
    from harness.leaderboard.board_view import mark_extremes

    # higher is better: A's interval [0.8, 0.95] excludes the runner-up's 0.5 -> best; C's [0.0, 0.2] excludes 0.5
    cells = [_cell(0.9, 0.8, 0.95), _cell(0.5, 0.4, 0.6), _cell(0.1, 0.0, 0.2)]
    mark_extremes(_col("higher"), cells)
    assert [c.rank_mark for c in cells] == ["best", "", "worst"]
    # overlapping intervals: the top value's interval reaches the runner-up -> a tie mark, never "best"
    cells = [_cell(0.9, 0.45, 0.95), _cell(0.5, 0.4, 0.6), _cell(0.1, 0.0, 0.55)]
    mark_extremes(_col("higher"), cells)
    assert [c.rank_mark for c in cells] == ["tie-best", "", "tie-worst"]
    assert "interval includes the runner-up" in cells[0].rank_title
    # lower is better mirrors it
    cells = [_cell(0.9, 0.8, 0.95), _cell(0.5, 0.4, 0.6), _cell(0.1, 0.0, 0.2)]
    mark_extremes(_col("lower"), cells)
    assert [c.rank_mark for c in cells] == ["worst", "", "best"]
    # closer to 0: -1 [-2, 0.5] is nearest, but its interval reaches distance 2 > the runner-up's 1.5 -> tie;
    # 1.5 [1.4, 1.6] is separated from nothing worse; 9 [8, 10] is worst and its whole interval is past 1.5
    cells = [_cell(-1.0, -2.0, 0.5), _cell(1.5, 1.4, 1.6), _cell(9.0, 8.0, 10.0)]
    mark_extremes(_col("target", 0.0), cells)
    assert [c.rank_mark for c in cells] == ["tie-best", "", "worst"]
    cells = [_cell(-0.2, -0.5, 0.3), _cell(1.5, 1.4, 1.6), _cell(9.0, 8.0, 10.0)]
    mark_extremes(_col("target", 0.0), cells)
    assert [c.rank_mark for c in cells] == ["best", "", "worst"]
    # no interval: a tie mark that says so; a descriptive column or a single value: no mark at all
    cells = [_cell(3.0), _cell(2.0)]
    mark_extremes(_col("higher"), cells)
    assert [c.rank_mark for c in cells] == ["tie-best", "tie-worst"] and "no interval" in cells[0].rank_title
    for col, cells in ((_col("none"), [_cell(3.0, 2.9, 3.1), _cell(1.0, 0.9, 1.1)]), (_col("higher"), [_cell(1.0)])):
        mark_extremes(col, cells)
        assert all(c.rank_mark == "" for c in cells)


def test_marks_reach_the_page_with_a_symbol_and_title(tmp_path):
    results = tmp_path / "results"
    # identity gaps -2 [-3, -1] and -20 [-23, -17]: closer to 0 is better, the intervals are far apart
    for i, (gap, half) in enumerate(((-2.0, 1.0), (-20.0, 3.0))):
        audit(results, f"org/m{i}", seed=i, extra_metrics={"identity_bias": {
            "best/percentile_gap": metric(gap), "best/gap_ci_low": metric(gap - half),
            "best/gap_ci_high": metric(gap + half)}})
    index = build(results, tmp_path / "site", rewardbench=stub_rb())
    kind = next(re.finditer(r'id="kind-([^"]+)"', index.read_text(encoding="utf-8"))).group(1)
    gap = column_cells(index, kind, "best", "identity_gap")
    assert gap["org/m0"].startswith("★ -2") and gap["org/m1"].startswith("▼ -20")
    raw = index.read_text(encoding="utf-8")
    assert 'class="rank-mark" title="best in this column: its 95% interval excludes' in raw


def test_rows_show_subset_dtype_limit_and_sanity(tmp_path):
    results = tmp_path / "results"
    folder = audit(results, "org/sub")
    doc = json.loads((folder / "results.json").read_text())
    for block in doc["results"].values():  # a subset smoke run, as `--subset demo-words-v4 --limit 300` writes
        block["settings"].update(subset="demo-words-v4", limit=300)
    (folder / "results.json").write_text(json.dumps(doc))
    index = build(results, tmp_path / "site", rewardbench=stub_rb())
    kind = next(re.finditer(r'id="kind-([^"]+)"', index.read_text(encoding="utf-8"))).group(1)
    cell = column_cells(index, kind, "best", "model")["org/sub"]
    assert "vocabulary subset demo-words-v4" in cell and "dtype bfloat16" in cell and "limit 300" in cell
    assert "sanity passed (0.90)" in cell


def test_search_file_budget_is_measured_in_bytes(tmp_path):
    from harness.report.assets import SEARCH_FILE, write_search

    folder = audit(tmp_path / "results", SKY, hostile=True)  # non-ASCII replies: \\uXXXX costs 6 bytes a character
    doc = doc_of(folder)
    full = write_search(doc, folder, tmp_path / "full", budget=10**9)
    size = (tmp_path / "full" / SEARCH_FILE).stat().st_size
    assert len(full.prompts) == 2
    assert size > len((tmp_path / "full" / SEARCH_FILE).read_text(encoding="ascii").encode("utf-8").decode(
        "unicode_escape"))  # escapes make the bytes outnumber the characters they stand for
    cut = write_search(doc, folder, tmp_path / "cut", budget=size - 1)  # one byte short: a prompt must go
    assert (tmp_path / "cut" / SEARCH_FILE).stat().st_size <= size - 1
    assert cut.prompts == full.prompts[:1] and full.prompts[1] in cut.reason
