"""leaderboard.md: the board's scale-free columns as GitHub tables, one per scorer kind and prompt (the default
prompt first)."""

from __future__ import annotations

from harness import __version__
from harness.report.text import md_escape, visible
from harness.leaderboard.board_view import BoardView, PromptTable


def _table(board: BoardView, table: PromptTable) -> list[str]:
    from tabulate import tabulate

    keep = [i for i, c in enumerate(table.columns) if c.scale_free]
    headers = (["Model", "Run"] + [f"RewardBench {v} ↓" for v in board.rb_versions] + ["Liked most", "Liked least"]
               + [md_escape(table.columns[i].label + (f" ({table.columns[i].note})" if table.columns[i].note else "")
                            + (f" {table.columns[i].arrow}" if table.columns[i].arrow else "")) for i in keep])
    rows = []
    for r in table.rows:
        row = [f"[{md_escape(visible(r.model_id))}]({r.href})", md_escape(", ".join(f"{k} {v}" for k, v in r.run))]
        row += [md_escape(c.text + (f" ({c.sub})" if c.sub else "")) for c in r.rb]
        row += [", ".join(md_escape(visible(t)) or "∅" for t in toks) or "—" for toks in (r.optimal, r.pessimal)]
        row += [md_escape((f"{board.marks[c.rank_mark][0]} " if c.rank_mark else "") + c.text
                          + (f" {c.ci}" if c.ci else "")) for c in (r.cells[i] for i in keep)]
        rows.append(row)
    text = f": “{md_escape(' '.join(table.prompt_text.split()))}”" if table.prompt_text else ""
    return [f"### Prompt `{table.prompt}`{text}", "",
            tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True), ""]


def render_markdown(board: BoardView, built: str) -> str:
    out = ["# Reward-model interpretability leaderboard", ""]
    if not board.kinds:
        out += ["_No results yet._", ""]
    for kind in board.kinds:
        out += [f"## {kind.label}", "", md_escape(kind.note), ""]
        for table in sorted(kind.tables, key=lambda t: t.prompt != board.default_prompt):
            out += _table(board, table)
    out += ["## Glossary", ""]
    out += [f"- **{md_escape(g.label)}**: {md_escape(g.definition)} ({md_escape(g.direction)}"
            + (f"; range: {md_escape(g.range)}" if g.range else "") + ")" for g in board.glossary]
    out += ["", ("↑ higher is better, ↓ lower, →0 closer to 0, ○ no better direction. ★ best and ▼ worst only where "
                 "the 95% interval excludes the runner-up, ≈ a best or worst value not separated from it."),
            "", (f"{md_escape(board.rb_note)} — = not available (the site gives the reason). Replies: ␣ is a space, "
                 "\\\\uXXXX an invisible or control character."), "", f"Built {built} by rm-harness {__version__}.", ""]
    return "\n".join(out)
