"""leaderboard.md: the board's default view (default prompt, scale-free columns) as GitHub tables, one per
scorer kind."""

from __future__ import annotations

from harness import __version__
from harness.report.text import md_escape, visible
from harness.leaderboard.board_view import BoardView


def render_markdown(board: BoardView, built: str) -> str:
    from tabulate import tabulate

    out = ["# Reward-model interpretability leaderboard", ""]
    if not board.kinds:
        out += ["_No results yet._", ""]
    for kind in board.kinds:
        table = next(t for t in kind.tables if t.prompt == board.default_prompt)
        keep = [i for i, c in enumerate(table.columns) if c.scale_free]
        headers = (["Model"] + [f"RewardBench {v}" for v in board.rb_versions] + ["Liked most", "Liked least"]
                   + [md_escape(table.columns[i].label + (f" ({table.columns[i].note})" if table.columns[i].note
                                                           else "") + (f" {table.columns[i].arrow}"
                                                                       if table.columns[i].arrow else ""))
                      for i in keep])
        rows = []
        for r in table.rows:
            row = [f"[{md_escape(visible(r.model_id))}]({r.href})"]
            row += [md_escape(c.text + (f" ({c.sub})" if c.sub else "")) for c in r.rb]
            row += [", ".join(md_escape(visible(t)) or "∅" for t in toks) or "—" for toks in (r.optimal, r.pessimal)]
            row += [md_escape(r.cells[i].text + (f" {r.cells[i].ci}" if r.cells[i].ci else "")) for i in keep]
            rows.append(row)
        out += [f"## {kind.label}", "", f"Prompt `{board.default_prompt}`. {md_escape(kind.note)}", "",
                tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True), ""]
    out += ["## Glossary", ""]
    out += [f"- **{md_escape(g.label)}**: {md_escape(g.definition)} ({md_escape(g.direction)}"
            + (f"; range: {md_escape(g.range)}" if g.range else "") + ")" for g in board.glossary]
    out += ["", (f"{md_escape(board.rb_note)} — = not available (the site gives the reason). Replies: ␣ is a space, "
                 "\\\\uXXXX an invisible or control character."), "", f"Built {built} by rm-harness {__version__}.", ""]
    return "\n".join(out)
