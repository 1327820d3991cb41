"""Leaderboard builder: visible(), escaping, markdown and site content, bad files, links, RewardBench snapshot."""

from __future__ import annotations

import json
import random
import re
import sys
import unicodedata
import warnings
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from leaderboard_fixtures import (HOSTILE_TOKENS, make_png, metric, results_doc, standard_board,  # noqa: E402
                                  write_results)

from leaderboard import build as lb  # noqa: E402
from leaderboard.build import LeaderboardError, LeaderboardWarning, build, md_escape, script_json, visible  # noqa: E402



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


def test_h_escapes_quotes_and_invisible_characters():
    out = lb.h('"\'<>&\u202e\ud800')
    assert out == "&quot;&#x27;&lt;&gt;&amp;\\u202E\\uD800"


# ------------------------------------------------------------------------------------------------ helpers

class _Doc(HTMLParser):
    """Collect start tags with attributes, and text with the stack of open tags and their titles."""

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


def parse(path: Path) -> _Doc:
    d = _Doc()
    d.feed(path.read_text(encoding="utf-8"))
    return d


def cells_with_title(doc: _Doc, needle: str) -> list[str]:
    """Text of every element whose title attribute contains needle."""
    out = []
    for text, stack in doc.texts:
        if stack and needle in (stack[-1][1].get("title") or ""):
            out.append(text.strip())
    return out


@pytest.fixture()
def board(tmp_path):
    results = tmp_path / "results"
    standard_board(results)
    with warnings.catch_warnings():
        warnings.simplefilter("error", LeaderboardWarning)
        index = build(results, tmp_path / "site")
    return tmp_path, results, index


# ------------------------------------------------------------------------------------------------ the board

def test_build_writes_markdown_site_and_returns_index(board):
    tmp, _, index = board
    site = tmp / "site"
    assert index == site / "index.html"
    for f in ("index.html", "compare.html", "leaderboard.md", "leaderboard.json", "static/style.css",
              "static/leaderboard.js", "models/Skywork__Skywork-Reward-Gemma-2-27B-v0.2.html",
              "models/Ray2333__GRM-gemma2-2B-rewardmodel-ft.html", "models/local__my-local-rm.html"):
        assert (site / f).is_file(), f
    assert not list(tmp.glob(".site*")), "no staging or old folders left behind"


def test_markdown_table(board):
    tmp, _, _ = board
    md = (tmp / "site" / "leaderboard.md").read_text(encoding="utf-8")
    lines = [l for l in md.splitlines() if l.startswith("|")]
    assert len(lines) == 2 + 3  # header, rule, one row per model
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    assert header[:5] == ["Model", "RewardBench rank", "RewardBench score", "Optimal tokens", "Pessimal tokens"]
    assert any("asymmetry" in c and "↑" in c for c in header)
    assert any("log\\_freq\\_coef" in c and "↓" in c for c in header)
    n = len(header)
    assert all(len(re.findall(r"(?<!\\)\|", l)) == n + 1 for l in lines), "pipes in cells must be escaped"
    rows = {l.split("|")[1].strip(): [c.strip() for c in l.strip("|").split("|")] for l in lines[2:]}
    sky = next(v for k, v in rows.items() if "Skywork" in k)
    assert sky[1:3] == ["4", "94.3"]  # RewardBench v1 today (snapshot 2025-12-22)
    assert "best: ␣LOVE, ␣Love, love, ␣Peace, ␣joy" == sky[3]
    assert sky[4].startswith("best: ␣blacks")
    grm = next(v for k, v in rows.items() if "GRM" in k)
    assert grm[1:3] == ["39", "88.4"]
    local = next(v for k, v in rows.items() if "my-local-rm" in k)
    assert local[1:3] == ["unranked", "—"]
    assert local[3] == "greatest: ␣Everything"
    assert "—" in local[5:]  # missing metrics
    assert "(models/Skywork__Skywork-Reward-Gemma-2-27B-v0.2.html)" in sky[0]
    # ranked models first, by rank; unranked last
    order = [k for k in rows]
    assert "Skywork" in order[0] and "GRM" in order[1] and "my-local-rm" in order[2]


def test_index_columns_are_data_driven_with_definitions_and_directions(board):
    tmp, _, _ = board
    doc = parse(tmp / "site" / "index.html")
    ths = {a.get("data-col"): a for t, a in doc.tags if t == "th" and a.get("data-col")}
    assert list(ths)[:5] == ["model", "rb_rank", "rb_score", "optimal", "pessimal"]
    asym = ths["framing_asymmetry/best/asymmetry"]
    assert asym["data-hib"] == "1" and "slope difference" in asym["title"] and "higher is better" in asym["title"]
    freq = ths["frequency_bias/best/log_freq_coef"]
    assert freq["data-hib"] == "-1" and "lower is better" in freq["title"]
    assert ths["token_optimality/best/skewness"]["data-hib"] == "0"
    # the headline columns (leaderboard/headline.yaml), in its order; every metric stays in leaderboard.json
    metric_cols = [c for c in ths if "/" in c]
    assert metric_cols == ["framing_asymmetry/best/asymmetry", "frequency_bias/best/log_freq_coef",
                           "identity_bias/best/percentile_gap", "token_optimality/best/skewness"]
    data = json.loads((tmp / "site" / "leaderboard.json").read_text())
    assert "token_optimality/best/mean" in {c["id"] for c in data["columns"]}
    text = (tmp / "site" / "index.html").read_text(encoding="utf-8")
    assert '<span class="dir" aria-label="higher is better">↑</span>' in text
    assert '<span class="dir" aria-label="lower is better">↓</span>' in text


def test_missing_metrics_show_a_dash_with_the_reason(board):
    tmp, _, _ = board
    doc = parse(tmp / "site" / "index.html")
    assert cells_with_title(doc, "fewer than 10 AFINN words matched") == ["—"]
    assert "—" in cells_with_title(doc, "task 'identity_bias' was not run for this model")
    assert "—" in cells_with_title(doc, "did not report this metric")
    assert cells_with_title(doc, "not on the RewardBench snapshot") == ["unranked"]


def test_unknown_task_becomes_a_column(tmp_path):
    results = tmp_path / "results"
    doc = results_doc("org/new-rm", metrics={"my_custom_task": {
        "p/weirdness": metric(2.5, False, "how weird the top tokens are <b>bold</b>")}})
    write_results(results, doc)
    build(results, tmp_path / "site")
    d = parse(tmp_path / "site" / "index.html")
    th = next(a for t, a in d.tags if t == "th" and a.get("data-col") == "my_custom_task/p/weirdness")
    assert th["title"].startswith("how weird the top tokens are <b>bold</b>")  # attribute text, not markup
    assert "<b>bold</b>" not in (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    md = (tmp_path / "site" / "leaderboard.md").read_text(encoding="utf-8")
    assert "p/weirdness (my\\_custom\\_task) ↓" in md and "| 2.5 " in md


@pytest.mark.parametrize("content", [
    b'{"schema_version": 1, "model": ',  # truncated
    b"[1, 2, 3]",  # not an object
    b'{"schema_version": 2, "model": {"id": "x/y"}, "results": {}}',  # future schema
    b'{"schema_version": 1, "model": {"revision": "abc"}, "results": {}}',  # no model id
    b'{"schema_version": 1, "model": {"id": "x/y"}, "results": [1]}',  # results not an object
    b"\xff\xfe\x00garbage",  # not UTF-8
    b"",  # empty
])
def test_bad_results_file_is_skipped_with_a_warning(tmp_path, content):
    results = tmp_path / "results"
    standard_board(results)
    bad = results / "zz__broken"
    bad.mkdir()
    (bad / "results.json").write_bytes(content)
    with pytest.warns(LeaderboardWarning, match="zz__broken"):
        build(results, tmp_path / "site")
    md = (tmp_path / "site" / "leaderboard.md").read_text(encoding="utf-8")
    assert len([l for l in md.splitlines() if l.startswith("|")]) == 5
    assert "1 results file(s) skipped" in (tmp_path / "site" / "index.html").read_text(encoding="utf-8")


def test_odd_metric_values_do_not_break_the_board(tmp_path):
    results = tmp_path / "results"
    doc = results_doc("org/odd", metrics={"t": {
        "a": {"value": "high", "higher_is_better": "yes", "definition": 3},
        "b": 1.5,  # a bare number
        "c": {"value": True},
        "d": {"value": 1e308 * 10},
    }})
    doc["results"]["t"]["data"] = {"top": {"best": [None, 3, {"decoded": None, "token": "Ġx", "score": "NaN"}]},
                                   "bottom": "nope"}
    doc["results"]["t"]["figures"] = ["../../../etc/passwd", "/etc/passwd", 5]
    write_results(results, doc)
    (results / "org__odd" / "results.json").write_text(
        (results / "org__odd" / "results.json").read_text().replace("Infinity", "1e999"))
    build(results, tmp_path / "site")
    page = (tmp_path / "site" / "models" / "org__odd.html").read_text(encoding="utf-8")
    assert "not a number in the results file (str)" in page
    assert "1.5" in page
    assert "No figures" in page
    assert not (tmp_path / "site" / "models" / "org__odd").exists()


def test_nan_and_lone_surrogates_anywhere_do_not_break_the_build(tmp_path):
    results = tmp_path / "results"
    d = results / "weird"
    d.mkdir(parents=True)
    # raw JSON: NaN/Infinity tokens (Python's json reads them) and \ud800 escapes (lone surrogates)
    (d / "results.json").write_text(
        '{"schema_version": 1, "model": {"id": "org/\\ud800odd", "revision": NaN, "dtype": Infinity},'
        ' "versions": {"t\\udc00": NaN},'
        ' "results": {"t\\udc00": {"metrics": {"k\\ud800/x": {"value": NaN, "higher_is_better": null,'
        ' "definition": "d\\u202e\\ud800"}}, "data": {"top": {"best": [{"id": 1, "decoded": "\\ud800", '
        '"score": NaN}]}}}}, "created": NaN}')
    snap = tmp_path / "snap.json"
    snap.write_text('{"source": "s\\ud800", "versions": {"v1": {"models": [{"model": "org/\\ud800odd", "score": NaN}]},'
                    ' "v2": {"models": [{"model": "org/odd", "score": Infinity}]}}}')
    build(results, tmp_path / "site", snapshot=snap)
    site = tmp_path / "site"
    for f in site.rglob("*"):
        if f.suffix in (".html", ".md", ".json"):
            text = f.read_text(encoding="utf-8")
            assert "\u202e" not in text
    data = json.loads((site / "leaderboard.json").read_text())
    assert data["rows"][0]["model"] == "org/\ud800odd"
    md = (site / "leaderboard.md").read_text(encoding="utf-8")
    assert "\\\\uD800" in md  # shown as the escape text \\uD800 (backslash doubled for markdown)


def test_duplicate_model_keeps_the_newest(tmp_path):
    results = tmp_path / "results"
    old = results_doc("org/dup", metrics={"t": {"m": metric(1.0, True, "m")}}, created="2026-01-01T00:00:00Z")
    new = results_doc("org/dup", metrics={"t": {"m": metric(2.0, True, "m")}}, created="2026-06-01T00:00:00Z")
    write_results(results, old, folder="org__dup_old")
    write_results(results, new, folder="org__dup")
    with pytest.warns(LeaderboardWarning, match="same model"):
        build(results, tmp_path / "site")
    md = (tmp_path / "site" / "leaderboard.md").read_text(encoding="utf-8")
    assert "| 2 " in md and "| 1 " not in md


def test_links_are_relative_and_resolve(board):
    tmp, _, _ = board
    site = tmp / "site"
    pages = sorted(site.rglob("*.html"))
    assert len(pages) == 5
    n_links = 0
    for page in pages:
        for tag, attrs in parse(page).tags:
            for attr in ("href", "src"):
                url = attrs.get(attr)
                if url is None:
                    continue
                parts = urlsplit(url)
                if parts.scheme:
                    assert parts.scheme == "https" and parts.netloc == "huggingface.co", url
                    assert "noopener" in attrs.get("rel", "")
                    continue
                assert not url.startswith("/") and not parts.netloc, url
                target = (page.parent / unquote(parts.path)).resolve()
                assert target.exists(), f"{page.name}: {url}"
                assert site.resolve() in target.parents or target == site.resolve(), url
                n_links += 1
    assert n_links > 20
    md = (site / "leaderboard.md").read_text(encoding="utf-8")
    for link in re.findall(r"\]\(([^)]+)\)", md):
        assert not urlsplit(link).scheme and (site / unquote(link)).is_file()


def test_figures_are_copied_and_linked(board):
    tmp, results, _ = board
    site = tmp / "site"
    figs = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.png"))
    assert figs == [
        "models/Ray2333__GRM-gemma2-2B-rewardmodel-ft/figures/token_optimality__distribution.png",
        "models/Skywork__Skywork-Reward-Gemma-2-27B-v0.2/figures/framing_asymmetry__slopes.png",
        "models/Skywork__Skywork-Reward-Gemma-2-27B-v0.2/figures/token_optimality__distribution.png",
    ]
    src = results / "Skywork__Skywork-Reward-Gemma-2-27B-v0.2" / "figures" / "framing_asymmetry__slopes.png"
    assert (site / figs[1]).read_bytes() == src.read_bytes()
    page = parse(site / "models" / "Skywork__Skywork-Reward-Gemma-2-27B-v0.2.html")
    imgs = [a for t, a in page.tags if t == "img"]
    assert [a["src"] for a in imgs] == [
        "Skywork__Skywork-Reward-Gemma-2-27B-v0.2/figures/token_optimality__distribution.png",
        "Skywork__Skywork-Reward-Gemma-2-27B-v0.2/figures/framing_asymmetry__slopes.png",
    ]
    assert imgs[1]["alt"] == "framing_asymmetry: slopes"
    local = (site / "models" / "local__my-local-rm.html").read_text(encoding="utf-8")
    assert "No figures in this results folder" in local


def test_only_real_png_files_inside_the_results_folder_are_copied(tmp_path):
    results = tmp_path / "results"
    d = write_results(results, results_doc("org/figs", metrics={"t": {"m": metric(1.0, None, "m")}}), pngs=["ok.png"])
    (d / "figures" / "fake.png").write_text("<svg onload=alert(1)>")
    (d / "figures" / "notes.txt").write_text("hello")
    secret = tmp_path / "secret.png"
    make_png(secret)
    (d / "figures" / "link.png").symlink_to(secret)
    (d / "figures" / 'we"ird <name>.png').write_bytes((d / "figures" / "ok.png").read_bytes())
    build(results, tmp_path / "site")
    copied = sorted(p.name for p in (tmp_path / "site" / "models" / "org__figs" / "figures").iterdir())
    assert copied == ["ok.png", "we-ird-name.png"]


def test_model_page_lists_tokens_metrics_and_missing_reasons(board):
    tmp, _, _ = board
    page = (tmp / "site" / "models" / "Ray2333__GRM-gemma2-2B-rewardmodel-ft.html").read_text(encoding="utf-8")
    assert "␣Excellent" in page and "␣terrible" in page
    assert "missing: fewer than 10 AFINN words matched" in page
    assert "rank 39, score 88.4" in page
    assert 'href="https://huggingface.co/Ray2333/GRM-gemma2-2B-rewardmodel-ft"' in page
    local = (tmp / "site" / "models" / "local__my-local-rm.html").read_text(encoding="utf-8")
    assert "unranked (not on the RewardBench snapshot)" in local
    assert "huggingface.co" not in local


def test_compare_page_without_a_comparison(board):
    tmp, _, _ = board
    page = (tmp / "site" / "compare.html").read_text(encoding="utf-8")
    assert "No cross-model comparison has been run yet" in page and "rm-harness compare" in page


def test_compare_page_with_a_comparison(tmp_path):
    results = tmp_path / "results"
    standard_board(results)
    cmp_dir = results / "_compare"
    make_png(cmp_dir / "figures" / "heterogeneity__kendall_heatmap.png")
    make_png(cmp_dir / "figures" / "heterogeneity__mds.png")
    sky, grm = "Skywork/Skywork-Reward-Gemma-2-27B-v0.2", "Ray2333/GRM-gemma2-2B-rewardmodel-ft"
    ids = [sky, grm, "other/not-on-board"]
    tau = "mean Kendall tau-b over model pairs (or, per model, over its pairs) on the shared vocabulary"
    (cmp_dir / "compare.json").write_text(json.dumps({
        "schema_version": 1, "created": "2026-11-26T00:00:00Z", "versions": {"heterogeneity": 1},
        "model": {"id": "comparison of " + ", ".join(ids), "models": ids, "scorer": "mixed"},
        "results": {"heterogeneity": {
            "metrics": {
                "best/mean_kendall_tau": metric(0.4, None, tau),
                "best/mds_stress": metric(None, None, "stress of the MDS", "MDS needs at least 3 models"),
                f"best/{sky}/mean_kendall_tau": metric(0.45, None, tau),
                f"best/{grm}/mean_kendall_tau": metric(None, None, tau, "model excluded: no shared vocabulary"),
                "best/other/not-on-board/mean_kendall_tau": metric(0.35, None, tau),
            },
            "data": {}, "figures": ["figures/heterogeneity__kendall_heatmap.png", "figures/heterogeneity__mds.png"],
        }},
    }))
    build(results, tmp_path / "site")
    site = tmp_path / "site"
    page = parse(site / "compare.html")
    srcs = [a["src"] for t, a in page.tags if t == "img"]
    assert srcs == ["compare/figures/heterogeneity__kendall_heatmap.png", "compare/figures/heterogeneity__mds.png"]
    assert all((site / s).is_file() for s in srcs)
    text = (site / "compare.html").read_text(encoding="utf-8")
    assert "other/not-on-board" in text and "(not on the board)" in text
    assert "/home/user/models/my-local-rm" in text  # on the board but not compared
    assert "best/mean_kendall_tau" in text and "MDS needs at least 3 models" in text
    col = "heterogeneity (comparison)/best/mean_kendall_tau"
    data = json.loads((site / "leaderboard.json").read_text())
    rows = {r["model"]: r for r in data["rows"]}
    assert rows[sky]["metrics"][col] == 0.45
    assert rows[grm]["missing"][col] == "model excluded: no shared vocabulary"
    assert rows["/home/user/models/my-local-rm"]["missing"][col].startswith("not part of the comparison report")
    idx = parse(site / "index.html")
    th = next(a for t, a in idx.tags if t == "th" and a.get("data-col") == col)
    assert tau in th["title"]
    model_page = (site / "models" / "Skywork__Skywork-Reward-Gemma-2-27B-v0.2.html").read_text(encoding="utf-8")
    assert "heterogeneity (comparison)" in model_page and "0.45" in model_page


def test_comparison_keys_name_the_right_model():
    split = lb._split_model_key
    models = ["org/a", "org/a-v2", "/abs/path/m"]
    assert split("best/org/a-v2/mean_rbo", models) == ("org/a-v2", "best", "mean_rbo")
    assert split("best/org/a/mean_rbo", models) == ("org/a", "best", "mean_rbo")
    assert split("best//abs/path/m/mean_rbo", models) == ("/abs/path/m", "best", "mean_rbo")
    assert split("best/mean_rbo", models) is None


def test_unreadable_comparison_report_is_a_warning(tmp_path):
    results = tmp_path / "results"
    standard_board(results)
    make_png(results / "_compare" / "figures" / "x.png")
    (results / "_compare" / "compare.json").write_text("{oops")
    with pytest.warns(LeaderboardWarning, match="compare.json"):
        build(results, tmp_path / "site")
    assert (tmp_path / "site" / "compare" / "figures" / "x.png").is_file()


def test_hostile_tokens_are_text_not_markup(tmp_path):
    results = tmp_path / "results"
    standard_board(results, hostile=True)
    build(results, tmp_path / "site")
    site = tmp_path / "site"
    for page in site.rglob("*.html"):
        raw = page.read_text(encoding="utf-8")
        assert "<script>window" not in raw and "<img src=x" not in raw and "<svg" not in raw
        assert "\u202e" not in raw and "\u200b" not in raw and "\x00" not in raw
        doc = parse(page)
        scripts = [a for t, a in doc.tags if t == "script"]
        assert scripts in ([], [{"type": "application/json", "id": "board-data"}, {"src": "static/leaderboard.js"}])
        for t, a in doc.tags:
            assert not any(k.startswith("on") for k in a), (page.name, t, a)
            if t == "img":
                assert a["src"].endswith(".png") and not a["src"].startswith(("x", "javascript"))
    index = parse(site / "index.html")
    texts = [t for t, _ in index.texts]
    for token in HOSTILE_TOKENS[:5]:  # the board shows the first five
        assert visible(token) in texts, token
    model = (site / "models" / "Skywork__Skywork-Reward-Gemma-2-27B-v0.2.html")
    mtexts = [t for t, _ in parse(model).texts]
    for token in HOSTILE_TOKENS:
        assert visible(token) in mtexts, repr(token)
    # the data island carries the exact strings
    raw = (site / "index.html").read_text(encoding="utf-8")
    island = re.search(r'<script type="application/json" id="board-data">(.*?)</script>', raw, re.S).group(1)
    data = json.loads(island)
    assert data["rows"][0]["optimal"]["tokens"] == HOSTILE_TOKENS[:5]


def test_hostile_model_id_and_definitions(tmp_path):
    results = tmp_path / "results"
    evil = '<script>window.__pwned=1</script>/"><img src=x onerror=alert(1)>'
    doc = results_doc(evil, metrics={"t\"><b>": {"k<i>": metric(None, True, "<script>x</script>",
                                                                 '"><img src=x onerror=alert(1)>')}})
    write_results(results, doc, folder="evil")
    build(results, tmp_path / "site")
    for page in (tmp_path / "site").rglob("*.html"):
        raw = page.read_text(encoding="utf-8")
        assert "<script>window" not in raw and "<img src=x" not in raw and "<b>" not in raw and "<i>" not in raw
    pages = sorted(p.name for p in (tmp_path / "site" / "models").glob("*.html"))
    assert len(pages) == 1 and re.fullmatch(r"[A-Za-z0-9._-]+\.html", pages[0])


def test_refuses_to_replace_a_folder_it_did_not_build(tmp_path):
    results = tmp_path / "results"
    standard_board(results)
    out = tmp_path / "mine"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    with pytest.raises(LeaderboardError, match="refusing"):
        build(results, out)
    assert (out / "precious.txt").read_text() == "keep me"
    with pytest.raises(LeaderboardError):
        build(results, tmp_path)  # would contain the results folder


def test_rebuild_replaces_the_site_and_drops_removed_models(tmp_path):
    results = tmp_path / "results"
    dirs = standard_board(results)
    out = tmp_path / "site"
    build(results, out)
    assert (out / "models" / "local__my-local-rm.html").is_file()
    import shutil

    shutil.rmtree(dirs["c"])
    build(results, out)
    assert not (out / "models" / "local__my-local-rm.html").exists()
    assert (out / lb.SITE_MARKER).is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results", "site"]


def test_failed_build_keeps_the_previous_site(tmp_path, monkeypatch):
    results = tmp_path / "results"
    standard_board(results)
    out = tmp_path / "site"
    build(results, out)
    before = (out / "index.html").read_text(encoding="utf-8")

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(lb, "_markdown", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        build(results, out)
    assert (out / "index.html").read_text(encoding="utf-8") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results", "site"]


def test_empty_or_missing_results_folder(tmp_path):
    (tmp_path / "results").mkdir()
    build(tmp_path / "results", tmp_path / "site")
    assert "No results yet" in (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    with pytest.warns(LeaderboardWarning, match="no results folder"):
        build(tmp_path / "nowhere", tmp_path / "site2")
    assert "_No results yet._" in (tmp_path / "site2" / "leaderboard.md").read_text(encoding="utf-8")


def test_submission_records_show_on_the_model_page(tmp_path):
    from harness.submission import track_submission

    results = tmp_path / "results"
    standard_board(results)
    with track_submission(results, "Ray2333/GRM-gemma2-2B-rewardmodel-ft", "0123456789abcdef", "bfloat16",
                          {"token_optimality": 1}):
        pass
    build(results, tmp_path / "site")
    page = (tmp_path / "site" / "models" / "Ray2333__GRM-gemma2-2B-rewardmodel-ft.html").read_text(encoding="utf-8")
    assert "FINISHED, self-submitted (unverified)" in page
    assert not (tmp_path / "site" / "models" / "requests.html").exists()


def test_cli(tmp_path, capsys):
    results = tmp_path / "results"
    standard_board(results)
    assert lb.main(["--results", str(results), "--out", str(tmp_path / "site")]) == 0
    out = capsys.readouterr().out
    assert str(tmp_path / "site" / "index.html") in out
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "x").write_text("x")
    assert lb.main(["--results", str(results), "--out", str(tmp_path / "other")]) == 2


def test_fmt_value():
    assert lb.fmt_value(None) == "—"
    assert lb.fmt_value(3.0) == "3"
    assert lb.fmt_value(0.123456) == "0.1235"
    assert lb.fmt_value(-30.5) == "-30.5"
    assert lb.fmt_value(1.5e-5) == "1.500e-05"
    assert lb.fmt_value(123456.7) == "1.235e+05"


# ------------------------------------------------------------------------------------------------ RewardBench

# The snapshot itself (v1 + v2, ranks, user results, refresh) is tested in tests/test_rewardbench.py.

def test_board_uses_a_snapshot_given_by_path(tmp_path):
    snap = tmp_path / "snap.json"
    snap.write_text(json.dumps({"source": "test", "retrieved": "2025-01-01", "versions": {
        "v1": {"models": [{"model": "ray2333/grm-gemma2-2b-rewardmodel-ft", "score": 50.0}]}, "v2": {"models": []}}}))
    results = tmp_path / "results"
    standard_board(results)
    build(results, tmp_path / "site", snapshot=snap)
    md = (tmp_path / "site" / "leaderboard.md").read_text(encoding="utf-8")
    assert md.count("unranked") == 2
    row = next(line for line in md.splitlines() if "GRM" in line)
    assert [c.strip() for c in row.strip("|").split("|")][1:3] == ["1", "50.0"]
