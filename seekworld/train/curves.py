"""Training curves a person looks at: one PNG per run, beside its `metrics.jsonl`.

    plot_run("checkpoints/trl-cpu-smoke")     # -> .../metrics.png
    seekworld train --plot RUN_DIR            # the same, from the CLI; a TRL run draws it at its end

`metrics.jsonl` holds one JSON object per logged step (`step` plus numbers). Each panel draws the
keys it knows that the file has and is left out when it has none; a key logged only on some steps
(held-out evaluation every N steps) is drawn at those steps, with markers. The keys, by panel:

- reward: `reward` and each component mean (a key `name` with `rewards/name/mean` beside it);
- accuracy: `accuracy` (the policy's own samples), `eval_accuracy`, `eval_country_accuracy` and
  `eval_format` (held-out data, greedy);
- accuracy per place: every `accuracy/<place>` key (`PLACE_PREFIX`);
- collapse: `top_answer_share` (completions giving the batch's most common answer) against
  `top_label_share` (the most common label's share of the batch), TRL's `frac_reward_zero_std`
  (groups whose samples all scored the same: no learning signal) and `entropy`;
- hacking: `padding_share`, `hedge_rate`, `format_failure_rate`, `judge_rule_disagreement`;
- length: `completions/mean_length` (TRL, tokens) and `reasoning_length` (characters), apart.

The monitor keys are `seekworld.rewards.monitors`' own names.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seekworld.errors import UsageError
from seekworld.io.files import atomic_write, iter_jsonl
from seekworld.rewards.monitors import (
    FORMAT_FAILURE,
    HEDGE,
    JUDGE_FIGURE,
    PADDING,
    PLACE_PREFIX,
    REASONING_LENGTH,
    TOP_ANSWER,
    TOP_LABEL,
)

__all__ = [
    "METRICS_FILE",
    "PLACE_PREFIX",
    "PLOT_FILE",
    "Panel",
    "panels",
    "plot_at_end",
    "plot_run",
    "read_metrics",
    "series",
]

METRICS_FILE = "metrics.jsonl"
PLOT_FILE = "metrics.png"
MAX_PLACES = 12  # lines in the per-place panel; the rest are counted in its title
SPARSE = 30  # a series with fewer points, or on fewer than half the steps, is drawn with markers


@dataclass(frozen=True)
class Panel:
    title: str
    keys: tuple[str, ...]  # in legend order; only those present are drawn
    unit_range: bool = False  # shares and rates: the y axis spans 0..1; otherwise it starts at 0


# key -> legend label, per panel. A key absent from the file is skipped.
_LABELS = {
    "reward": "reward (weighted sum)",
    "accuracy": "accuracy, training samples",
    "eval_accuracy": "held-out accuracy (greedy)",
    "eval_country_accuracy": "held-out country accuracy",
    "eval_format": "held-out format rate",
    TOP_ANSWER: "top answer share",
    TOP_LABEL: "top label share (reference)",
    "frac_reward_zero_std": "groups with no signal (TRL)",
    "entropy": "entropy (TRL, nats)",
    PADDING: "padding share of reasoning",
    HEDGE: "hedge rate",
    FORMAT_FAILURE: "format failure rate",
    JUDGE_FIGURE: "judge/rule disagreement",
    "completions/mean_length": "completion length (TRL)",
    REASONING_LENGTH: "reasoning length",
}
_FIXED = (
    Panel(
        "Accuracy: training samples and held-out",
        ("accuracy", "eval_accuracy", "eval_country_accuracy", "eval_format"),
        unit_range=True,
    ),
    Panel(
        "Collapse: one answer for every image?",
        (TOP_ANSWER, TOP_LABEL, "frac_reward_zero_std", "entropy"),
    ),
    Panel(
        "Hacking monitors",
        (PADDING, HEDGE, FORMAT_FAILURE, JUDGE_FIGURE),
        unit_range=True,
    ),
    Panel("Completion length (tokens)", ("completions/mean_length",)),
    Panel("Reasoning length (characters inside <think>)", (REASONING_LENGTH,)),
)


def read_metrics(path: str | Path) -> tuple[list[dict[str, Any]], int]:
    """The rows of a `metrics.jsonl` that are JSON objects with a numeric `step`, and how many lines
    were skipped (a line being written when the file was read, or junk)."""
    rows, skipped = [], 0
    for _, row in iter_jsonl(path):
        if isinstance(row, dict) and _number(row.get("step")) is not None:
            rows.append(row)
        else:
            skipped += 1
    return rows, skipped


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def series(rows: list[dict[str, Any]], key: str) -> tuple[list[float], list[float]]:
    """(steps, values) of the rows where `key` is a finite number."""
    points = [(row["step"], v) for row in rows if (v := _number(row.get(key))) is not None]
    return [float(s) for s, _ in points], [v for _, v in points]


def panels(rows: list[dict[str, Any]]) -> list[Panel]:
    """The panels this run's keys fill, each with the keys present (pure)."""
    present: dict[str, None] = {}
    for row in rows:
        present.update((k, None) for k, v in row.items() if _number(v) is not None)
    components = tuple(k for k in present if f"rewards/{k}/mean" in present)
    out = []
    reward = tuple(k for k in ("reward", *components) if k in present)
    if reward:
        out.append(Panel("Reward and its components (training samples)", reward))
    fixed = [Panel(p.title, tuple(k for k in p.keys if k in present), p.unit_range) for p in _FIXED]
    out.extend(p for p in fixed[:1] if p.keys)
    places = sorted(k for k in present if k.startswith(PLACE_PREFIX))
    if places:
        shown = tuple(places[:MAX_PLACES])
        more = f" ({len(places) - len(shown)} more not shown)" if len(places) > len(shown) else ""
        out.append(Panel(f"Accuracy per place (training samples){more}", shown, True))
    out.extend(p for p in fixed[1:] if p.keys)
    return out


def _smooth(values: list[float]) -> list[float]:
    """Trailing mean over about a twentieth of the run: the trend through per-step noise."""
    window = max(1, len(values) // 20)
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v - (values[i - window] if i >= window else 0.0)
        out.append(total / min(i + 1, window))
    return out


def _draw(ax: Any, panel: Panel, rows: list[dict[str, Any]]) -> None:
    from matplotlib.ticker import MaxNLocator

    if len(panel.keys) > 10:  # the default cycle has 10 colours: two places would share one
        from matplotlib import colormaps

        ax.set_prop_cycle(color=colormaps["tab20"].colors)
    for key in panel.keys:
        steps, values = series(rows, key)
        label = _LABELS.get(key) or key.removeprefix(PLACE_PREFIX)
        if len(values) < SPARSE or len(values) < len(rows) / 2:  # few points, or every Nth step
            ax.plot(steps, values, marker="o", markersize=3, linewidth=1.2, label=label)
            continue
        (line,) = ax.plot(steps, values, linewidth=0.6, alpha=0.35)
        ax.plot(steps, _smooth(values), linewidth=1.6, color=line.get_color(), label=label)
    ax.set_title(panel.title, fontsize=10)
    ax.set_xlabel("step")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # steps are whole: no tick at 1.25
    if panel.unit_range:
        ax.set_ylim(-0.03, 1.03)
    else:  # from 0, so a drift reads at its true size (a length growing 5% is not a cliff)
        ax.set_ylim(bottom=min(0.0, ax.get_ylim()[0]))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")


def plot_run(run_dir: str | Path, output: str | Path | None = None) -> Path:
    """Draw `run_dir/metrics.jsonl` into one PNG (default `run_dir/metrics.png`); returns its path.
    Raises UsageError when there is no file or nothing to draw."""
    run = Path(run_dir)
    path = run / METRICS_FILE
    if not path.is_file():
        raise UsageError(f"{path} does not exist: a training output folder holds {METRICS_FILE}")
    rows, skipped = read_metrics(path)
    chosen = panels(rows)
    if not chosen:
        raise UsageError(f"{path}: no step with a number to plot ({skipped} unreadable lines)")

    import matplotlib

    matplotlib.use("Agg")  # files only; never a display
    import matplotlib.pyplot as plt

    ncols = 2 if len(chosen) > 1 else 1
    nrows = math.ceil(len(chosen) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(7 * ncols, 3.4 * nrows), squeeze=False)
    cells = list(axes.flat)
    for ax, panel in zip(cells, chosen, strict=False):  # an odd count leaves the last cell empty
        _draw(ax, panel, rows)
    for ax in cells[len(chosen) :]:
        ax.set_visible(False)
    steps = {r["step"] for r in rows}  # a training row and an evaluation row may share a step
    note = f"; {skipped} unreadable lines skipped" if skipped else ""
    fig.suptitle(f"{run}: {len(steps)} logged steps, last step {max(steps):g}{note}", fontsize=11)
    fig.tight_layout()
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=100)
    plt.close(fig)
    out = Path(output) if output is not None else run / PLOT_FILE
    atomic_write(out, png.getvalue())  # a viewer open on it never sees half a file
    return out


def plot_at_end(run_dir: str | Path) -> Path | None:
    """`plot_run` at the end of training: prints where the PNG went, or why there is none. A plot
    that cannot be drawn never fails the run (the model is saved; `--plot` draws it later)."""
    try:
        out = plot_run(run_dir)
    except Exception as exc:
        why = f"{type(exc).__name__}: {exc}"
        print(f"training curves not drawn ({why}); later: seekworld train --plot {run_dir}", flush=True)
        return None
    print(f"training curves: {out}", flush=True)
    return out
