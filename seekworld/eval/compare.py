"""Paired comparison of two evaluation runs on the prompts both have (`seekworld eval --compare`).

The difference is accuracy(B) − accuracy(A) over the shared prompts, with a paired bootstrap
interval (resampling prompts, each keeping both runs' results). McNemar's exact test uses one
binary outcome per prompt and run: sample 0 (with K = 1, the only one).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from seekworld.eval import metrics
from seekworld.eval.runner import PREDICTIONS, EvalError, read_predictions

__all__ = ["compare_runs", "render_comparison", "verdict"]

ALPHA = 0.05


def _load(run_dir: str | Path) -> tuple[str, dict[str, list[dict]]]:
    path = Path(run_dir) / PREDICTIONS
    if not path.exists():
        raise EvalError(f"{path} does not exist: --compare takes two `seekworld eval --output` folders")
    units: dict[str, list[dict]] = defaultdict(list)
    name = str(run_dir)
    for p in read_predictions(path):
        units[p["key"]].append(p)
        name = p.get("model") or name
    return name, units


def compare_runs(dir_a: str | Path, dir_b: str | Path, resamples: int = 1000) -> dict:
    name_a, a = _load(dir_a)
    name_b, b = _load(dir_b)
    shared = [i for i in a if i in b]
    if not shared:
        raise EvalError(f"{dir_a} and {dir_b} share no prompt ids; were they run on the same data?")

    def acc(units: dict[str, list[dict]], ids: list[str]) -> list[float]:
        return [metrics.mean([p["accuracy"] for p in units[i]]) for i in ids]

    def block(ids: list[str]) -> dict:
        va, vb = acc(a, ids), acc(b, ids)
        return {
            "n": len(ids),
            "a": metrics.bootstrap(va, resamples=resamples).to_dict(),
            "b": metrics.bootstrap(vb, resamples=resamples).to_dict(),
            "difference": metrics.paired_bootstrap_diff(va, vb, resamples=resamples).to_dict(),
        }

    by_source: dict[str, list[str]] = defaultdict(list)
    for i in shared:
        by_source[str(a[i][0].get("datasource"))].append(i)

    first = [i for i in shared if any(p["sample"] == 0 for p in a[i]) and any(p["sample"] == 0 for p in b[i])]

    def right(units: dict[str, list[dict]], i: str) -> bool:
        return next(p for p in units[i] if p["sample"] == 0)["accuracy"] >= 1.0

    only_a = sum(right(a, i) and not right(b, i) for i in first)
    only_b = sum(right(b, i) and not right(a, i) for i in first)
    return {
        "a": {"dir": str(dir_a), "model": name_a, "prompts": len(a)},
        "b": {"dir": str(dir_b), "model": name_b, "prompts": len(b)},
        "shared": len(shared),
        "overall": block(shared),
        "by_datasource": {name: block(ids) for name, ids in by_source.items()},
        "mcnemar": {
            "n": len(first),
            "a_right_b_wrong": only_a,
            "a_wrong_b_right": only_b,
            "p_value": metrics.mcnemar_exact(only_a, only_b),
            "outcome": "sample 0 of each prompt",
        },
    }


def render_comparison(result: dict) -> str:
    def pct(x: float) -> str:
        return f"{100 * x:.2f}"

    def diff(est: dict) -> str:
        return f"{100 * est['value']:+.2f} [{100 * est['ci'][0]:+.1f}, {100 * est['ci'][1]:+.1f}]"

    a, b, m = result["a"], result["b"], result["mcnemar"]
    name_a, name_b = a["model"], b["model"]
    if name_a == name_b:  # the same model twice: the folders tell them apart
        name_a, name_b = f"{name_a} ({a['dir']})", f"{name_b} ({b['dir']})"
    lines = [
        f"# {name_b} (B) vs {name_a} (A)",
        "",
        f"{result['shared']} shared prompts (A has {a['prompts']}, B has {b['prompts']}). "
        "Accuracy in %; B − A with a 95% paired bootstrap interval.",
        "",
        "| | n | A | B | B − A |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, blk in [*result["by_datasource"].items(), ("Overall", result["overall"])]:
        a_val, b_val = pct(blk["a"]["value"]), pct(blk["b"]["value"])
        lines.append(f"| {name} | {blk['n']} | {a_val} | {b_val} | {diff(blk['difference'])} |")
    lines += [
        "",
        f"McNemar exact test ({m['outcome']}, {m['n']} prompts): A right/B wrong {m['a_right_b_wrong']}, "
        f"A wrong/B right {m['a_wrong_b_right']}, p = {m['p_value']:.4g}.",
        "",
        verdict(result),
        "",
    ]
    return "\n".join(lines)


def verdict(result: dict, alpha: float = ALPHA) -> str:
    """One plain line: the overall difference, its interval, McNemar's p, and whether that is
    significant at `alpha` (McNemar decides; the interval is shown beside it)."""
    diff, p = result["overall"]["difference"], result["mcnemar"]["p_value"]
    lo, hi = diff["ci"]
    significant = p < alpha
    direction = "B better" if diff["value"] > 0 else "A better" if diff["value"] < 0 else "no difference"
    return (
        f"Verdict: B − A = {100 * diff['value']:+.2f} points (95% CI [{100 * lo:+.1f}, {100 * hi:+.1f}]), "
        f"McNemar p = {p:.3g}: "
        + (f"significant at {alpha:g} ({direction})." if significant else f"not significant at {alpha:g}.")
    )
