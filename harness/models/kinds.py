"""The scorer kinds: one table that every other module reads (loading, the registry, task checks, analyses, the
CLI, the report and the board).

A kind says what a score *is* (a trained reward, a DPO implicit reward, an LM log-probability), so numbers of
different kinds never share a metric definition or a board column. Adding a kind is one entry here plus its
loader (docs/architecture.md, "How to add a scorer kind").

Importing this module is cheap: it imports nothing of the harness and no torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


# How a kind's scorer is built (harness/models/loading.py has one loader per style): a sequence-classification
# model read at its reward head, a causal LM's log-probabilities, or a policy paired with its reference model.
LOAD_STYLES = ("sequence_classifier", "causal_lm", "policy_and_reference")


@dataclass(frozen=True)
class KindOption:
    """A command-line option only this kind reads, recorded in results.json under `model.scorer_options.<key>`."""

    flag: str  # e.g. --beta
    key: str  # scorer_options key (and the argparse dest)
    help: str
    choices: tuple[str, ...] | None = None
    positive_number: bool = False  # a finite number above 0 (the CLI checks it); otherwise a string
    # a file the user names: read from the command line only (verify takes it from the maintainer's, never from a
    # document), recorded in results.json by name and sha256, never by path
    file: bool = False


@dataclass(frozen=True)
class ScorerKind:
    name: str  # the value of `--scorer`, of a registry entry's `kind`, of results.json's `model.scorer`
    label: str  # appended to a metric's definition: what the scored numbers are
    words: str  # the report's "scorer" line
    board_label: str  # the board's heading of this kind's table
    board_note: str  # the board's note under that heading
    order: int  # the board lists kinds by this, lowest first
    loads: str  # how `harness.models.loading` builds its Scorer: one of LOAD_STYLES
    logprob: bool  # its scores are log-probabilities (an analysis that cannot read those skips it)
    # cost rule: scored rows of a vocabulary scan of one prompt over `n` candidate tokens
    vocab_rows: Callable[[int], int]
    # what results.json's model block records under `output` for a loaded scorer
    recorded_output: Callable[[Any], Any]
    options: tuple[KindOption, ...] = ()
    optimisable: bool = False  # its score is differentiable in the reply's embeddings: GCG can search it
    # a causal LM without a chat template is scored in the study's plain `User: ...\nAssistant:` format
    plain_without_template: bool = False
    # a scorer may write per-row columns beside `score` into its tables (names; the Scorer computes them)
    side_columns: tuple[str, ...] = ()


KINDS: dict[str, ScorerKind] = {k.name: k for k in (
    ScorerKind(
        name="reward",
        label="reward-model score",
        words="reward model (scalar reward)",
        board_label="Reward models",
        board_note="Scalar reward of each reply. Rank-based columns compare across reward models.",
        order=0,
        loads="sequence_classifier",
        logprob=False,
        vocab_rows=lambda n: n,
        recorded_output=lambda scorer: scorer.spec.output,
        optimisable=True,
    ),
    ScorerKind(
        name="lm_logprob",
        label="LM log-prob (natural-log probability of the reply under a language model; not a reward)",
        words="language model (log-probability)",
        board_label="Language models (log-probability of the reply)",
        board_note="Log-probability of the reply under a language model: a baseline, not a reward. Its numbers "
                   "never share a column with reward models.",
        order=2,
        loads="causal_lm",
        logprob=True,
        vocab_rows=lambda n: 1,  # one forward of the prompt gives every next token's log-prob
        recorded_output=lambda scorer: "log_softmax(logits)",
        plain_without_template=True,
    ),
    ScorerKind(
        name="dpo",
        label="DPO implicit reward (policy vs reference log-ratio)",
        words="DPO policy (implicit reward against a reference model)",
        board_label="DPO policies (implicit reward)",
        board_note="Implicit reward: β times the log-probability ratio of the policy to its reference model. Not "
                   "on the same footing as a trained reward head, so DPO policies get their own table. A policy "
                   "audited without its reference model scores the summed log-probability of the reply, not a "
                   "ratio: the frequency, identity and framing analyses, which cannot read log-probabilities, are "
                   "not run for it.",
        order=1,
        loads="policy_and_reference",
        logprob=False,  # a log-ratio; reference-free DPO reads log-probs (ModelRef.reference_free says so)
        vocab_rows=lambda n: n,
        recorded_output=lambda scorer: getattr(getattr(scorer, "settings", None), "to_json", lambda: None)(),
        options=(
            KindOption("--dpo-variant", "dpo_variant", choices=("rewardbench", "next_token"),
                       help="DPO implicit reward: rewardbench (reply + EOS, RewardBench's; default) or next_token"),
            KindOption("--beta", "beta", positive_number=True, help="DPO beta (default 1, as RewardBench)"),
        ),
    ),
    ScorerKind(
        name="judge",
        label="generative judge's expected rating (its next-token distribution over the rating values)",
        words="generative judge (expected rating of its next token after a rating template)",
        board_label="Generative judges (expected rating)",
        board_note="A causal LM asked to rate each reply through a rating template; the score is the expected "
                   "rating under its next-token distribution over the rating values, not a generated or reasoned "
                   "verdict. Ratings and rewards are on different scales, so judges get their own table.",
        order=3,
        loads="causal_lm",
        logprob=False,  # an expected rating: a valuation of the reply, like a reward
        vocab_rows=lambda n: n,
        recorded_output=lambda scorer: scorer.template.to_json(),
        options=(
            KindOption("--judge-template", "judge_template", file=True,
                       help="the rating template of --scorer judge: a YAML file with `template` (holding {prompt} "
                            "and {reply}, ending where the rating is written) and `ratings` (default: the "
                            "project's, harness/models/judge_default.yaml)"),
        ),
        optimisable=True,
        plain_without_template=True,
        side_columns=("rating_mass", "p_top_rating"),
    ),
)}

if any(k.loads not in LOAD_STYLES for k in KINDS.values()):
    raise ValueError(f"a scorer kind's `loads` must be one of {LOAD_STYLES}")
SCORER_KINDS: tuple[str, ...] = tuple(KINDS)  # the names, in the table's order


def kind(name: str) -> ScorerKind:
    """The table entry of scorer kind `name` (KeyError when it is not one)."""
    return KINDS[name]


def board_order() -> tuple[str, ...]:
    """The kinds in the order the board lists them."""
    return tuple(sorted(KINDS, key=lambda n: KINDS[n].order))


def all_options() -> tuple[KindOption, ...]:
    """Every kind's own command-line options, in table order."""
    return tuple(o for k in KINDS.values() for o in k.options)


def file_options() -> tuple[KindOption, ...]:
    """The kinds' options that name a file (see KindOption.file)."""
    return tuple(o for o in all_options() if o.file)


def optimisable() -> frozenset[str]:
    """The kinds GCG can search."""
    return frozenset(n for n, k in KINDS.items() if k.optimisable)
