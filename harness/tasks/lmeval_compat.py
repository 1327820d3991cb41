"""What an lm-eval task author meets here, said in lm-eval's terms (no imports from the rest of the package).

lm-eval task YAMLs may call Python (`!function utils.process_docs`) and define groups (`task:` as a list with
`aggregate_metric_list`, `group_alias`). Task files here are data only and groups are names tasks share, so both
are refused with a message that says so and what to write instead, rather than a generic YAML or key error.
"""

from __future__ import annotations

import re

import yaml

FUNCTION_TAG = "!function"
FUNCTION_MESSAGE = ("lm-eval's `!function` tag (a Python hook such as process_docs or a metric function) does not "
                    "apply here: task files never run code; name a registered analysis under `analysis:` and write "
                    "prompts and replies as data")
GROUP_KEYS = ("aggregate_metric_list", "group_alias")
GROUP_MESSAGE = ("lm-eval group key: groups here are names tasks share (`group: NAME` in each task file, selected "
                 "with --tasks NAME) and their metrics are not aggregated; remove it")
TASK_LIST_MESSAGE = ("a list of tasks is an lm-eval group config: write one file per task with `group: NAME` in "
                     "each, and select them with --tasks NAME")
_LINE = re.compile(r"line (\d+)")


def function_tag_line(error: yaml.YAMLError) -> int | None:
    """The 1-based line of an lm-eval `!function` tag that made safe loading fail, or None for other errors."""
    if not isinstance(error, yaml.constructor.ConstructorError) or FUNCTION_TAG not in str(error.problem or ""):
        return None
    mark = error.problem_mark
    return mark.line + 1 if mark is not None else 0


class TolerantLoader(yaml.SafeLoader):
    """Safe loading that reads every `!tag` node as None, so the rest of a file can still be checked."""


def _any_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> None:  # noqa: ARG001 - PyYAML's signature
    return None


TolerantLoader.add_multi_constructor("!", _any_tag)


def function_tag_lines(text: str) -> list[int]:
    """1-based lines of every `!function` tag in a YAML text (tokens, so quoted text does not count)."""
    lines = []
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if isinstance(token, yaml.TagToken) and "".join(token.value) == FUNCTION_TAG:
                lines.append(token.start_mark.line + 1)
    except yaml.YAMLError:
        pass
    return lines
