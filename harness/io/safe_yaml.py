"""The one YAML reader for data files (task specs, term lists, model facts, sanity pairs, registries).

Safe loading only, and no anchors or aliases: an alias expands a node by reference, so a few hundred bytes can
stand for gigabytes once read ("billion laughs"), and no size cap on the file stops that. Data files here never
need them; a file with one is refused with a message naming the line. This module imports nothing from the
package, so any module may use it.
"""

from __future__ import annotations

from typing import Any

import yaml


class AliasError(yaml.YAMLError):
    """The document uses a YAML anchor or alias, which data files may not."""


class _NoAliasLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors (`&name`) and aliases (`*name`) while composing, before any expansion."""

    def compose_node(self, parent, index):  # noqa: ANN001 - PyYAML's signature
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise AliasError(f"YAML alias *{event.anchor} at line {event.start_mark.line + 1}: anchors and aliases "
                             "are not allowed in data files; write the value out")
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise AliasError(f"YAML anchor &{anchor} at line {event.start_mark.line + 1}: anchors and aliases "
                             "are not allowed in data files; write the value out")
        return super().compose_node(parent, index)


def load(text: str) -> Any:
    """`yaml.safe_load(text)` without anchors or aliases (AliasError, a yaml.YAMLError, when there is one)."""
    return yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - a SafeLoader subclass


def compose(text: str) -> yaml.Node | None:
    """The node tree of `text` (for readers that need the text as written), anchors and aliases refused."""
    return yaml.compose(text, Loader=_NoAliasLoader)
