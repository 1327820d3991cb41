"""Figures of an analysis result saved as PNG files beside results.json.

At save time every figure gets a title line naming the model (and the prompt, when the figure is about one),
every text at least `MIN_FONT_PT` points, and lines or bars labelled with a prompt key the prompt's colour, so
that figures read alike whichever analysis drew them. Analyses draw; this module only finishes and saves.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.analyses.base import AnalysisResult

MIN_FONT_PT = 9.0
DPI = 110
# One colour per prompt across every figure (colour-blind-safe Okabe-Ito order).
PROMPT_COLORS = {"best": "#0072B2", "greatest": "#009E73", "worst": "#D55E00", "greatest_ever": "#CC79A7",
                 "humans_most_prefer": "#E69F00"}
_OTHER_COLORS = ("#56B4E9", "#F0E442", "#000000", "#999999")


def prompt_color(key: str) -> str:
    """The colour of prompt `key` in every figure (stable for unknown keys too)."""
    if key in PROMPT_COLORS:
        return PROMPT_COLORS[key]
    return _OTHER_COLORS[sum(key.encode("utf-8")) % len(_OTHER_COLORS)]


def _prompt_in(name: str, prompts: Mapping[str, str]) -> str | None:
    for key in sorted(prompts, key=len, reverse=True):
        if re.search(rf"(^|[_\W]){re.escape(key)}($|[_\W])", name):
            return key
    return None


def finish_figure(fig: Any, *, model: str | None, task: str, name: str, prompts: Mapping[str, str]) -> None:
    """Title naming the model and prompt, fonts of at least MIN_FONT_PT, prompt colours on labelled artists."""
    from matplotlib.text import Text

    from harness.report.text import safe_text

    prompt = _prompt_in(name, prompts)
    head = [safe_text(model)] if model else []
    head.append(f"{task}: {name.replace('_', ' ')}")
    if prompt:
        head.append(f"prompt {prompt}: “{prompts[prompt]}”" if prompts.get(prompt) else f"prompt {prompt}")
    old = fig._suptitle.get_text() if getattr(fig, "_suptitle", None) is not None else ""
    fig.suptitle("\n".join(head + ([old] if old else [])), fontsize=10)
    for t in fig.findobj(Text):
        if t.get_text() and t.get_fontsize() < MIN_FONT_PT:
            t.set_fontsize(MIN_FONT_PT)
    for ax in fig.get_axes():
        recoloured = False
        for artist in [*ax.get_lines(), *ax.collections, *ax.containers, *ax.patches]:
            label = artist.get_label() if hasattr(artist, "get_label") else None
            if isinstance(label, str) and label in prompts:
                for part in getattr(artist, "patches", None) or [artist]:  # bars: colour each patch
                    try:
                        if getattr(part, "get_fill", lambda: True)():
                            part.set_color(prompt_color(label))
                        else:  # step histograms: outline only
                            part.set_edgecolor(prompt_color(label))
                        recoloured = True
                    except (AttributeError, ValueError):
                        pass
        old = ax.get_legend()
        if recoloured and old is not None:  # a legend copies colours when made: make it again
            handles, labels = ax.get_legend_handles_labels()
            ax.legend(handles, labels, loc=old._loc, fontsize=max(MIN_FONT_PT, old.get_texts()[0].get_fontsize()
                                                                 if old.get_texts() else MIN_FONT_PT))

def figure_path(task: str, name: str) -> str:
    """Where figure `name` of `task` is saved, relative to the audit folder."""
    return f"figures/{task}__{name}.png"


def close_figures(result: AnalysisResult, task: str) -> list[str]:
    """The paths `save_figures` would write, without drawing anything (the figures are closed)."""
    import matplotlib.pyplot as plt

    for fig in result.figures.values():
        if fig is not None:  # plt.close(None) would close the current figure, whoever's it is
            plt.close(fig)
    return [figure_path(task, str(name)) for name in result.figures]


def save_figures(result: AnalysisResult, task: str, out_dir: Path, *, model: str | None = None,
                 prompts: Mapping[str, str] | None = None) -> list[str]:
    """Write each figure as figures/<task>__<name>.png; return paths relative to out_dir.

    `model`: the display id for the titles (none when not given);
    `prompts`: prompt key -> text (default: the study's prompts)."""
    import matplotlib.pyplot as plt

    from harness.report.model_view import STUDY_PROMPTS

    out_dir = Path(out_dir)
    prompts = dict(prompts or STUDY_PROMPTS)
    paths = []
    for name, fig in result.figures.items():
        rel = Path(figure_path(task, str(name)))
        (out_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        finish_figure(fig, model=model, task=task, name=str(name), prompts=prompts)
        fig.savefig(out_dir / rel, dpi=DPI, bbox_inches="tight")
        plt.close(fig)
        paths.append(rel.as_posix())
    return paths
