"""Evaluation reports: `report.json`, `report.md` and plots from scored predictions.

The unit is a prompt (a row): with K samples per prompt its accuracy is the mean over its samples.
"Overall" is pooled over all prompts of all datasources (SeekWorld's column: 46.21 =
(59.69·320 + 34.65·373) / 693), not the mean of the datasource accuracies. Every rate has a 95%
percentile bootstrap interval over prompts (seeded, so a rerun prints the same numbers).

Distance metrics cover prompts whose label has `lat`/`lon`: a prediction without coordinates counts
as the worst guess (half the Earth's circumference), as in the distance reward. Reverse-geocoded
country/region accuracy ("coordinates" section) covers all prompts, an answer without coordinates
counting as wrong; both sections appear only when they apply.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path

from seekworld.eval import metrics
from seekworld.rewards.distance import MAX_DISTANCE_KM

__all__ = ["build_report", "render_markdown", "render_table", "write_report"]

SCHEMA = 1
_DIFFICULTY_ORDER = {"easy": 0, "medium": 1, "hard": 2}
UNKNOWN = "unknown"


def _group_units(preds: Iterable[dict]) -> dict[str, list[dict]]:
    units: dict[str, list[dict]] = defaultdict(list)
    for p in preds:
        units[p["key"]].append(p)
    for samples in units.values():
        samples.sort(key=lambda p: p["sample"])
    return units


def _unit_values(
    units: dict[str, list[dict]], ids: Iterable[str], fn: Callable[[dict], float]
) -> list[float]:
    return [metrics.mean([float(fn(p)) for p in units[i]]) for i in ids]


def _estimate(values: list[float], resamples: int, statistic=metrics.mean) -> dict:
    return metrics.bootstrap(values, statistic, resamples=resamples).to_dict()


def _difficulty_key(name: str) -> tuple:
    return (name == UNKNOWN, _DIFFICULTY_ORDER.get(name, 3), name)


def build_report(
    preds: list[dict], rows: list[dict], settings: dict, samples: int = 1, resamples: int = 1000
) -> dict:
    """The report dict for scored predictions of `rows` (see the module docstring)."""
    units = _group_units(preds)
    row_by_key = {r["key"]: r for r in rows}
    ids = [r["key"] for r in rows if r["key"] in units]  # data order

    datasources = list(dict.fromkeys(str(r.get("datasource")) for r in rows))
    groups: dict[str, dict[str, list[str]]] = {"by_datasource": {d: [] for d in datasources}}
    groups["by_difficulty"] = defaultdict(list)
    groups["by_continent"] = defaultdict(list)
    for i in ids:
        row = row_by_key[i]
        groups["by_datasource"][str(row.get("datasource"))].append(i)
        groups["by_difficulty"][str(row.get("difficulty") or UNKNOWN)].append(i)
        groups["by_continent"][units[i][0].get("continent") or "Unknown"].append(i)
    groups["by_difficulty"] = dict(
        sorted(groups["by_difficulty"].items(), key=lambda kv: _difficulty_key(kv[0]))
    )
    groups["by_continent"] = dict(
        sorted(groups["by_continent"].items(), key=lambda kv: (kv[0] == "Unknown", kv[0]))
    )

    def table(fn: Callable[[dict], float]) -> dict:
        out = {"overall": _estimate(_unit_values(units, ids, fn), resamples)}
        for group, members in groups.items():
            out[group] = {
                name: _estimate(_unit_values(units, m, fn), resamples) for name, m in members.items()
            }
        return out

    report: dict = {
        "schema": SCHEMA,
        "model": settings.get("name") or settings.get("model"),
        "settings": settings,
        "datasources": datasources,
        "n_rows": len(rows),
        "n_evaluated": len(ids),
        "n_predictions": len(preds),
        "samples_per_prompt": samples,
        "missing": len(rows) * samples - len(preds),
        "bootstrap": {"resamples": resamples, "seed": metrics.DEFAULT_SEED, "level": 0.95, "unit": "prompt"},
        "accuracy": table(lambda p: p["accuracy"]),
        "country_accuracy": table(lambda p: p["country_ok"]),
        "format": table(lambda p: p["format"]),
    }
    if samples > 1:
        report["pass_at_k"] = {}
        for k in sorted({1, samples}):
            values = [
                metrics.pass_at_k(len(units[i]), int(sum(p["accuracy"] >= 1.0 for p in units[i])), k)
                for i in ids
                if len(units[i]) >= k
            ]
            report["pass_at_k"][str(k)] = _estimate(values, resamples)
    report["distance"] = _distance_section(units, ids, resamples)
    report["coordinates"] = _coordinate_section(units, ids, resamples)
    latencies = sorted(p["latency_s"] for p in preds if p.get("latency_s") is not None)
    report["latency_s"] = (
        {
            "mean": metrics.mean(latencies),
            "median": metrics.percentile(latencies, 0.5),
            "p90": metrics.percentile(latencies, 0.9),
        }
        if latencies
        else None
    )
    finish: dict[str, int] = defaultdict(int)
    for p in preds:
        finish[str(p.get("finish_reason"))] += 1
    report["finish_reasons"] = dict(sorted(finish.items()))
    return report


def _distance_km(p: dict) -> float:
    d = p.get("distance_km")
    return MAX_DISTANCE_KM if d is None else d


def _distance_section(units: dict[str, list[dict]], ids: list[str], resamples: int) -> dict | None:
    with_coords = [i for i in ids if "distance_km" in units[i][0]]
    if not with_coords:
        return None
    section: dict = {"n": len(with_coords)}
    section["answered_with_coordinates"] = metrics.mean(
        _unit_values(units, with_coords, lambda p: p.get("distance_km") is not None)
    )
    section["within_km"] = {
        str(t): _estimate(_unit_values(units, with_coords, lambda p, t=t: _distance_km(p) <= t), resamples)
        for t in metrics.DISTANCE_THRESHOLDS_KM
    }
    distances = _unit_values(units, with_coords, _distance_km)
    section["median_km"] = _estimate(distances, resamples, statistic=metrics.median)
    section["mean_geoguessr"] = _estimate(
        _unit_values(units, with_coords, lambda p: p["geoguessr"]), resamples
    )
    return section


def _coordinate_section(units: dict[str, list[dict]], ids: list[str], resamples: int) -> dict | None:
    answered = [p for i in ids for p in units[i] if "coord_ids" in p]
    if not answered:
        return None
    return {
        "answers_with_coordinates": len(answered),
        "region_resolved": sum(p["coord_ids"]["region"] is not None for p in answered),
        "country_accuracy": _estimate(
            _unit_values(units, ids, lambda p: p.get("coord_country_ok", False)), resamples
        ),
        "region_accuracy": _estimate(
            _unit_values(units, ids, lambda p: p.get("coord_region_ok", False)), resamples
        ),
    }


# --- markdown ----------------------------------------------------------------------------------


def _pct(est: dict | None, interval: bool = True) -> str:
    if not est or est.get("value") is None:
        return "–"
    text = f"{100 * est['value']:.2f}"
    if interval:
        lo, hi = est["ci"]
        text += f" [{100 * lo:.1f}, {100 * hi:.1f}]"
    return text


def render_table(reports: list[dict], interval: bool = True) -> str:
    """SeekWorld's table: one row per model, a column per datasource, then Overall (pooled)."""
    columns = list(dict.fromkeys(d for r in reports for d in r["datasources"]))
    lines = [
        "| Model | " + " | ".join(columns) + " | Overall |",
        "|---|" + "---:|" * (len(columns) + 1),
    ]
    for r in reports:
        acc = r["accuracy"]
        cells = [_pct(acc["by_datasource"].get(c), interval) for c in columns]
        lines.append(f"| {r['model']} | " + " | ".join(cells) + f" | {_pct(acc['overall'], interval)} |")
    ns = []
    for r in reports:
        parts = [f"{c} {r['accuracy']['by_datasource'][c]['n']}" for c in r["datasources"]]
        ns.append(f"{r['model']}: " + ", ".join([*parts, f"Overall {r['accuracy']['overall']['n']}"]))
    return "\n".join(lines) + "\n\nPrompts per column — " + "; ".join(ns) + "\n"


def _group_table(title: str, report: dict, group: str) -> list[str]:
    lines = [
        f"## {title}",
        "",
        f"| {title.split()[-1].capitalize()} | n | Accuracy | Format |",
        "|---|---:|---:|---:|",
    ]
    for name, est in report["accuracy"][group].items():
        fmt = report["format"][group][name]
        lines.append(f"| {name} | {est['n']} | {_pct(est)} | {_pct(fmt)} |")
    return [*lines, ""]


def render_markdown(report: dict, plots: Iterable[str] = ()) -> str:
    s = report["settings"]
    lines = [
        f"# Evaluation: {report['model']}",
        "",
        f"`{s['model']}` via `{s['engine']}`; temperature {s['temperature']}, top_p {s['top_p']}, "
        f"max_new_tokens {s['max_new_tokens']}, {report['samples_per_prompt']} sample(s) per prompt, "
        f"seed {s['seed']}. Data: {', '.join(f'`{d}`' for d in s['data'])}"
        + (f" (first {s['limit']} rows of each)" if s.get("limit") else "")
        + ".",
        "",
        f"Accuracy in %, with the 95% bootstrap interval ({report['bootstrap']['resamples']} resamples "
        "of prompts) in brackets. Overall is pooled over all prompts.",
        "",
    ]
    if report["missing"]:
        lines += [
            f"**{report['missing']} of {report['n_rows'] * report['samples_per_prompt']} samples are "
            "missing** (failed requests, see failures.jsonl): rerun the same command to retry them.",
            "",
        ]
    lines += [render_table([report]), ""]
    lines += [
        "| | Overall |",
        "|---|---:|",
        f"| Accuracy | {_pct(report['accuracy']['overall'])} |",
        f"| Country accuracy | {_pct(report['country_accuracy']['overall'])} |",
        f"| Format compliance | {_pct(report['format']['overall'])} |",
    ]
    for k, est in (report.get("pass_at_k") or {}).items():
        lines.append(f"| pass@{k} | {_pct(est)} |")
    lines.append("")
    lines += [
        "## By datasource",
        "",
        "| Datasource | n | Accuracy | Country | Format |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, est in report["accuracy"]["by_datasource"].items():
        country = _pct(report["country_accuracy"]["by_datasource"][name])
        fmt = _pct(report["format"]["by_datasource"][name])
        lines.append(f"| {name} | {est['n']} | {_pct(est)} | {country} | {fmt} |")
    lines.append("")
    lines += _group_table("By difficulty", report, "by_difficulty")
    lines += _group_table("By continent", report, "by_continent")
    dist = report.get("distance")
    if dist:
        heads = [f"≤{int(t):,} km" for t in metrics.DISTANCE_THRESHOLDS_KM]
        lines += [
            "## Distance",
            "",
            f"{dist['n']} prompts with coordinates in the label; "
            f"{100 * dist['answered_with_coordinates']:.1f}% of answers gave coordinates "
            "(a missing one counts as the farthest possible guess).",
            "",
            "| " + " | ".join(heads) + " | Median error (km) | GeoGuessr score |",
            "|" + "---:|" * (len(heads) + 2),
            "| "
            + " | ".join(_pct(dist["within_km"][str(t)]) for t in metrics.DISTANCE_THRESHOLDS_KM)
            + f" | {_km(dist['median_km'])} | {_points(dist['mean_geoguessr'])} |",
            "",
        ]
    coords = report.get("coordinates")
    if coords:
        lines += [
            "## Coordinate answers, reverse-geocoded",
            "",
            f"{coords['answers_with_coordinates']} answers gave coordinates; "
            f"{coords['region_resolved']} fell in a region the gazetteer resolves. "
            "Accuracy over all prompts (no coordinates = wrong):",
            "",
            f"- country: {_pct(coords['country_accuracy'])}",
            f"- country and region: {_pct(coords['region_accuracy'])}",
            "",
        ]
    lat = report.get("latency_s")
    if lat:
        lines += [
            f"Latency per sample: mean {lat['mean']:.2f} s, median {lat['median']:.2f} s, "
            f"p90 {lat['p90']:.2f} s. "
            f"Finish reasons: {', '.join(f'{k} {v}' for k, v in report['finish_reasons'].items())}.",
            "",
        ]
    for plot in plots:
        lines += [f"![{plot}]({plot})", ""]
    return "\n".join(lines)


def _km(est: dict) -> str:
    if est.get("value") is None:
        return "–"
    return f"{est['value']:,.1f} [{est['ci'][0]:,.0f}, {est['ci'][1]:,.0f}]"


def _points(est: dict) -> str:
    if est.get("value") is None:
        return "–"
    return f"{est['value']:,.0f} [{est['ci'][0]:,.0f}, {est['ci'][1]:,.0f}]"


# --- plots -------------------------------------------------------------------------------------


def _bar_plot(path: Path, title: str, estimates: dict[str, dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display: files only
    import matplotlib.pyplot as plt

    names = [n for n, e in estimates.items() if e["value"] is not None]
    values = [100 * estimates[n]["value"] for n in names]
    lower = [v - 100 * estimates[n]["ci"][0] for v, n in zip(values, names, strict=True)]
    upper = [100 * estimates[n]["ci"][1] - v for v, n in zip(values, names, strict=True)]
    fig, ax = plt.subplots(figsize=(max(4.0, 1.1 * len(names) + 1.5), 3.6), dpi=110)
    ax.bar(range(len(names)), values, yerr=[lower, upper], capsize=4, color="#4C72B0")
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels([f"{n}\n(n={estimates[n]['n']})" for n in names], fontsize=8)
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 100)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_report(report: dict, out_dir: str | Path) -> list[Path]:
    """Write report.json, report.md and the PNG plots into out_dir; returns the paths."""
    out = Path(out_dir)
    plots = []
    try:
        for group, name, title in (
            ("by_difficulty", "accuracy_by_difficulty.png", "Accuracy by difficulty (95% CI)"),
            ("by_continent", "accuracy_by_continent.png", "Accuracy by continent of the gold label (95% CI)"),
        ):
            _bar_plot(out / name, f"{report['model']}: {title}", report["accuracy"][group])
            plots.append(name)
    except ImportError:
        plots = []  # matplotlib missing: the tables still say everything
    (out / "report.json").write_text(
        json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (out / "report.md").write_text(render_markdown(report, plots), encoding="utf-8")
    return [out / "report.json", out / "report.md", *(out / p for p in plots)]
