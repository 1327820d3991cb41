""""The previous revision" of a named model: from the maintainer's submission records (results/requests/), in the
order the attempts were made (their attempt ids sort by time), never from a document's own timestamp. A record
names its model group with `model_name` (`--model-name ORG/NAME`, which groups local checkpoints whose content
hashes differ); the audit of a record is found from where the record lies, through the results layout."""

from __future__ import annotations

from harness.errors import UserError
from harness.results.audit import Audit, open_audit
from harness.results.layout import Layout


class NoPreviousRevision(UserError, LookupError):
    """No earlier audit of the named model in the maintainer's records; the message says what to pass."""


def previous_revision(layout: Layout, b: Audit) -> Audit:
    from harness.results.records import FINISHED, all_attempts

    from harness.models.identity import looks_like_hub_id

    name = b.model.get("model_name")
    if name is None or name == "":
        raise NoPreviousRevision(f"{b.display_id} was audited without --model-name, so it has no previous revision "
                                 "on record: name the baseline audit explicitly (diff A B, gate --baseline AUDIT)")
    if not looks_like_hub_id(name):  # the document is untrusted: its name is only a key to match, never shown raw
        raise NoPreviousRevision(f"{b.display_id}: its results.json names its model group with something that is "
                                 "not ORG/NAME: name the baseline audit explicitly (diff A B, gate --baseline AUDIT)")
    found: list[tuple[str, str, str]] = []  # (attempt id, slug, revision folder)
    for path, rec in all_attempts(layout):
        if rec.status == FINISHED and getattr(rec, "model_name", None) == name:
            found.append((path.stem, path.parent.parent.name, path.parent.name))
    found.sort()
    here = (b.slug, b.folder.name)
    mine = [i for i, (_, s, r) in enumerate(found) if (s, r) == here]
    before = found[: mine[-1]] if mine else found
    for _, slug, rev in reversed(before):
        if (slug, rev) != here:
            return open_audit(layout.root / slug / rev, layout.root)
    raise NoPreviousRevision(f"no earlier finished submission of {name} in {layout.requests_dir} before {b.display_id}: name the "
                             "baseline audit explicitly (diff A B, gate --baseline AUDIT)")
