"""Evaluation reports: `report.json`, `report.md` and plots from scored predictions.

The unit is a prompt (a row): with K samples per prompt its accuracy is the mean over its samples.
"Overall" is pooled over all prompts of all datasources (SeekWorld's column: 46.21 =
(59.69·320 + 34.65·373) / 693), not the mean of the datasource accuracies. Every rate has a 95%
Wilson score interval over prompts (honest at 0% and 100%); the distance figures (median error,
mean GeoGuessr score) have a 95% percentile bootstrap interval over prompts (seeded, so a rerun
prints the same numbers).

Distance metrics cover prompts whose label has `lat`/`lon`, twice: over all of them, a prediction
without coordinates counting as the worst guess (half the Earth's circumference, as in the distance
reward), and over the answers that gave coordinates only, with their count. Reverse-geocoded
country/region accuracy ("coordinates" section) covers all prompts, an answer without coordinates
counting as wrong; both sections appear only when they apply.
"""

from __future__ import annotations

import html
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path

from seekworld.eval import metrics
from seekworld.rewards.distance import MAX_DISTANCE_KM

__all__ = [
    "bar_figure",
    "build_report",
    "confusions",
    "map_figure",
    "marker_area",
    "render_markdown",
    "render_table",
    "run_labels",
    "world_outlines",
    "write_report",
    "wrong_answers",
]

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


def _estimate(values: list[float], resamples: int) -> dict:
    """A rate over prompts with its Wilson interval (`resamples` is unused: no resampling)."""
    return metrics.wilson(values).to_dict()


def _boot(values: list[float], resamples: int, statistic=metrics.mean) -> dict:
    return metrics.bootstrap(values, statistic, resamples=resamples).to_dict()


INTERVALS = {
    "rates": "Wilson score interval, 95%, over prompts",
    "distance": "percentile bootstrap, 95%, over prompts (median error, GeoGuessr score)",
}


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
    groups["by_country"] = defaultdict(list)
    for i in ids:
        row = row_by_key[i]
        groups["by_datasource"][str(row.get("datasource"))].append(i)
        groups["by_difficulty"][str(row.get("difficulty") or UNKNOWN)].append(i)
        groups["by_continent"][units[i][0].get("continent") or "Unknown"].append(i)
        groups["by_country"][(units[i][0].get("gold_ids") or {}).get("country") or UNKNOWN].append(i)
    groups["by_difficulty"] = dict(
        sorted(groups["by_difficulty"].items(), key=lambda kv: _difficulty_key(kv[0]))
    )
    groups["by_continent"] = dict(
        sorted(groups["by_continent"].items(), key=lambda kv: (kv[0] == "Unknown", kv[0]))
    )
    groups["by_country"] = dict(sorted(groups["by_country"].items(), key=lambda kv: (-len(kv[1]), kv[0])))

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
        "intervals": INTERVALS,
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
    report["confusions"] = confusions(preds)
    report["wrong_answers"] = wrong_answers(preds)
    report["locations"] = _locations(units, ids)
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
    section["median_km"] = _boot(distances, resamples, statistic=metrics.median)
    section["mean_geoguessr"] = _boot(_unit_values(units, with_coords, lambda p: p["geoguessr"]), resamples)
    # The same figures over the samples that gave coordinates only: with few of them the
    # antipode-filled median above is the antipode, and this one says how close the rest came.
    given = [p for i in with_coords for p in units[i] if p.get("distance_km") is not None]
    answered: dict = {"n": len(given)}
    if given:
        dists = [p["distance_km"] for p in given]
        answered["within_km"] = {
            str(t): metrics.wilson([float(d <= t) for d in dists]).to_dict()
            for t in metrics.DISTANCE_THRESHOLDS_KM
        }
        answered["median_km"] = _boot(dists, resamples, statistic=metrics.median)
        answered["mean_geoguessr"] = _boot([p["geoguessr"] for p in given], resamples)
    section["answered"] = answered
    return section


CONFUSIONS_SHOWN = 20
WRONG_ANSWERS_SHOWN = 20


def _pairs(pairs: Iterable[tuple[str, str]], cap: int) -> list[dict]:
    counts = Counter(pairs)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [{"gold": g, "predicted": a, "count": n} for (g, a), n in ranked[:cap]]


def confusions(preds: Iterable[dict], cap: int = CONFUSIONS_SHOWN) -> dict:
    """The most frequent gold → predicted pairs over all samples whose answer resolved: countries
    (wrong country) and regions (right country, wrong region; or a wrong country's region)."""
    country, region = [], []
    for p in preds:
        gold, ans = p.get("gold_ids") or {}, p.get("answer_ids") or {}
        if not gold.get("country") or not ans.get("country"):
            continue
        if ans["country"] != gold["country"]:
            country.append((gold["country"], ans["country"]))
        g_place, a_place = gold.get("region"), ans.get("region")
        if g_place and a_place and g_place != a_place and g_place != gold["country"]:
            region.append((g_place, a_place))
    return {"country": _pairs(country, cap), "region": _pairs(region, cap)}


def wrong_answers(preds: Iterable[dict], cap: int = WRONG_ANSWERS_SHOWN) -> dict:
    """Answers that scored below 1, grouped by (answer text, reason), most frequent first, capped;
    `total` counts them all and `by_reason` counts every reason."""
    wrong = [p for p in preds if p.get("accuracy", 0.0) < 1.0]
    groups = Counter(
        (" ".join(str(p.get("answer") or "").split())[:120], p.get("reason") or "wrong") for p in wrong
    )
    ranked = sorted(groups.items(), key=lambda kv: (-kv[1], kv[0]))
    return {
        "total": len(wrong),
        "by_reason": dict(Counter(p.get("reason") or "wrong" for p in wrong).most_common()),
        "top": [{"answer": a or None, "reason": r, "count": n} for (a, r), n in ranked[:cap]],
    }


def _locations(units: dict[str, list[dict]], ids: list[str]) -> list[dict]:
    """Gold and predicted (sample 0) coordinates of the prompts whose label has coordinates."""
    out = []
    for i in ids:
        p = units[i][0]
        if "distance_km" not in p:
            continue
        gold = _gold_coordinates(p.get("label"))
        if gold is None:
            continue
        coords = (p.get("parsed") or {}).get("coordinates")
        out.append({"key": i, "gold": gold, "predicted": coords, "ok": p.get("accuracy", 0.0) >= 1.0})
    return out


def _gold_coordinates(label) -> list[float] | None:
    from seekworld.geo.label import LabelError, parse_label

    try:
        gold = parse_label(label)
    except (LabelError, TypeError, ValueError):
        return None
    return [gold.lat, gold.lon] if gold.has_coordinates else None


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


def run_labels(reports: list[dict], dirs: list[str] | None = None) -> list[str]:
    """A distinct label per run: the model name, and where two runs share it, the run folder (or
    #1, #2 without folders)."""
    names = [str(r["model"]) for r in reports]
    counts = Counter(names)
    labels = []
    for i, name in enumerate(names):
        if counts[name] == 1:
            labels.append(name)
        elif dirs is not None:
            labels.append(f"{name} ({dirs[i]})")
        else:
            labels.append(f"{name} #{names[: i + 1].count(name)}")
    if len(set(labels)) < len(labels):  # the same folder twice
        labels = [f"{label} #{i + 1}" for i, label in enumerate(labels)]
    return labels


def _incomplete(report: dict) -> str:
    missing = report.get("missing") or 0
    if not missing:
        return ""
    return f" (incomplete: {missing} of {report['n_rows'] * report['samples_per_prompt']} samples missing)"


def render_table(reports: list[dict], interval: bool = True, labels: list[str] | None = None) -> str:
    """SeekWorld's table: one row per model, a column per datasource, then Overall (pooled). Runs
    with the same model name get distinct labels; an incomplete run says so in its row."""
    labels = labels or run_labels(reports)
    columns = list(dict.fromkeys(d for r in reports for d in r["datasources"]))
    lines = [
        "| Model | " + " | ".join(columns) + " | Overall |",
        "|---|" + "---:|" * (len(columns) + 1),
    ]
    for r, label in zip(reports, labels, strict=True):
        acc = r["accuracy"]
        cells = [_pct(acc["by_datasource"].get(c), interval) for c in columns]
        name = f"{label}{_incomplete(r)}".replace("|", "\\|")
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {_pct(acc['overall'], interval)} |")
    ns = []
    for r, label in zip(reports, labels, strict=True):
        parts = [f"{c} {r['accuracy']['by_datasource'][c]['n']}" for c in r["datasources"]]
        ns.append(f"{label}: " + ", ".join([*parts, f"Overall {r['accuracy']['overall']['n']}"]))
    return "\n".join(lines) + "\n\nPrompts per column — " + "; ".join(ns) + "\n"


def _group_table(title: str, report: dict, group: str) -> list[str]:
    lines = [
        f"## {title}",
        "",
        f"| {title.split()[-1].capitalize()} | n | Accuracy | Country | Format |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, est in report["accuracy"][group].items():
        fmt = report["format"][group][name]
        country = _pct(report["country_accuracy"][group][name])
        lines.append(f"| {name} | {est['n']} | {_pct(est)} | {country} | {_pct(fmt)} |")
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
        "Accuracy in %, with the 95% Wilson score interval over prompts in brackets"
        + (
            f"; distance figures with a 95% percentile bootstrap interval "
            f"({report['bootstrap']['resamples']} resamples of prompts)"
            if report.get("distance")
            else ""
        )
        + ". Overall is pooled over all prompts.",
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
    lines += _distance_lines(report.get("distance"))
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
    lines += _confusion_lines(report)
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


def _distance_lines(dist: dict | None) -> list[str]:
    """The distance section: all prompts (a missing answer at the antipode), then the answers that
    gave coordinates only. Nothing without a distance section."""
    if not dist:
        return []
    lines: list[str] = []
    heads = [f"≤{int(t):,} km" for t in metrics.DISTANCE_THRESHOLDS_KM]
    answered = dist.get("answered") or {"n": 0}
    lines += [
        "## Distance",
        "",
        f"{dist['n']} prompts with coordinates in the label; "
        f"{100 * dist['answered_with_coordinates']:.1f}% of answers gave coordinates. "
        "First row: all prompts, a missing answer counting as the farthest possible guess "
        f"(20,015 km); second row: only the {answered['n']} answers that gave coordinates.",
        "",
        "| Over | n | " + " | ".join(heads) + " | Median error (km) | GeoGuessr score |",
        "|---|---:|" + "---:|" * (len(heads) + 2),
        "| all prompts (missing = antipode) | "
        + f"{dist['n']} | "
        + " | ".join(_pct(dist["within_km"][str(t)]) for t in metrics.DISTANCE_THRESHOLDS_KM)
        + f" | {_km(dist['median_km'])} | {_points(dist['mean_geoguessr'])} |",
    ]
    if answered["n"]:
        lines.append(
            "| answers with coordinates | "
            + f"{answered['n']} | "
            + " | ".join(_pct(answered["within_km"][str(t)]) for t in metrics.DISTANCE_THRESHOLDS_KM)
            + f" | {_km(answered['median_km'])} | {_points(answered['mean_geoguessr'])} |"
        )
    else:
        lines.append("| answers with coordinates | 0 |" + " – |" * (len(heads) + 2))
    lines.append("")
    return lines


def _place_name(place_id: str) -> str:
    """`CN-SC Sichuan` / `JP Japan`: the ID people can search for, and a name they can read."""
    from seekworld.geo.gazetteer import load_gazetteer

    gaz = load_gazetteer()
    try:
        name = (
            gaz.region_name(place_id, "en") if place_id in gaz.regions else gaz.country_name(place_id, "en")
        )
    except (KeyError, ValueError):
        name = None
    return f"`{place_id}` {name}" if name else f"`{place_id}`"


def _confusion_lines(report: dict) -> list[str]:
    lines: list[str] = []
    conf = report.get("confusions") or {}
    for kind, title in (("region", "regions"), ("country", "countries")):
        pairs = conf.get(kind) or []
        lines += [f"## Most frequent confusions: {title}", ""]
        if not pairs:
            lines += ["None.", ""]
            continue
        lines += ["| Gold | Predicted | Count |", "|---|---|---:|"]
        lines += [
            f"| {_place_name(c['gold'])} | {_place_name(c['predicted'])} | {c['count']} |" for c in pairs
        ]
        lines.append("")
    wrong = report.get("wrong_answers")
    if wrong and wrong["total"]:
        reasons = html.escape(", ".join(f"{r} {n}" for r, n in wrong["by_reason"].items()))
        lines += [
            "## Wrong answers",
            "",
            f"{wrong['total']} samples scored below 1 ({reasons}). The most frequent "
            f"{len(wrong['top'])}, by answer and reason:",
            "",
            "| Answer | Reason | Count |",
            "|---|---|---:|",
        ]
        for w in wrong["top"]:
            answer = "(none)" if w["answer"] is None else f"`{w['answer'].replace('`', chr(39))}`"
            reason = html.escape(str(w["reason"])).replace("|", "\\|")  # "<answer>" is not a tag
            lines.append(f"| {answer.replace('|', chr(92) + '|')} | {reason} | {w['count']} |")
        lines.append("")
    return lines


def _km(est: dict) -> str:
    if est.get("value") is None:
        return "–"
    return f"{est['value']:,.1f} [{est['ci'][0]:,.0f}, {est['ci'][1]:,.0f}]"


def _points(est: dict) -> str:
    if est.get("value") is None:
        return "–"
    return f"{est['value']:,.0f} [{est['ci'][0]:,.0f}, {est['ci'][1]:,.0f}]"


# --- plots -------------------------------------------------------------------------------------

BAR_COLOUR = "#4C72B0"
ZERO_COLOUR = "#C44E52"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # no display: files only
    import matplotlib.pyplot as plt

    return plt


def _fit_title(fig, ax, title: str) -> None:
    """Set the title and lay the figure out, wrapping the title until it lies inside the figure
    (measured after layout, not guessed), so a long model or category name is never cut off."""
    import textwrap

    from matplotlib.layout_engine import ConstrainedLayoutEngine

    constrained = isinstance(fig.get_layout_engine(), ConstrainedLayoutEngine)
    renderer = fig.canvas.get_renderer()
    width = len(title)
    while True:
        ax.set_title("\n".join(textwrap.wrap(title, width)) or title, fontsize=10)
        if constrained:
            fig.canvas.draw()  # a constrained layout runs on drawing
        else:
            fig.tight_layout()
        box = ax.title.get_window_extent(renderer)
        inside = fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1 and box.y1 <= fig.bbox.y1
        if inside or width <= 12:
            return
        width = int(width * 0.85)


def bar_figure(title: str, estimates: dict[str, dict]):
    """Accuracy bars with their interval, a value label on each bar and a marker at a 0% group (a
    bar of height 0 is invisible); the y axis ends above the highest interval, so every error bar
    and label stays inside the frame. Returns the matplotlib Figure."""
    plt = _pyplot()
    names = [n for n, e in estimates.items() if e["value"] is not None]
    values = [100 * estimates[n]["value"] for n in names]
    lows = [100 * estimates[n]["ci"][0] for n in names]
    highs = [100 * estimates[n]["ci"][1] for n in names]
    fig, ax = plt.subplots(figsize=(max(4.5, 1.1 * len(names) + 1.5), 3.8), dpi=110)
    xs = list(range(len(names)))
    ax.bar(
        xs,
        values,
        yerr=[
            [v - lo for v, lo in zip(values, lows, strict=True)],
            [hi - v for v, hi in zip(values, highs, strict=True)],
        ],
        capsize=4,
        color=BAR_COLOUR,
        error_kw={"ecolor": "#333333", "clip_on": True},
    )
    zeros = [x for x, v in zip(xs, values, strict=True) if v == 0]
    if zeros:
        ax.plot(
            zeros,
            [0] * len(zeros),
            linestyle="none",
            marker="v",
            markersize=8,
            color=ZERO_COLOUR,
            clip_on=False,
            zorder=5,
            label="0%",
        )
    for x, v, hi in zip(xs, values, highs, strict=True):
        ax.annotate(
            f"{v:.1f}%",
            (x, hi),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=8,
        )
    ax.set_xticks(xs)
    ax.set_xticklabels([f"{n}\n(n={estimates[n]['n']})" for n in names], fontsize=8)
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, max([100.0, *highs]) * 1.12)  # room for the labels above a 100% interval
    ax.set_yticks(range(0, 101, 20))
    ax.set_xlim(-0.6, len(names) - 0.4)
    _fit_title(fig, ax, title)
    return fig


_WORLD = Path(__file__).resolve().parent / "data" / "world_outlines.json.gz"


def world_outlines() -> list[dict]:
    """Natural Earth 1:110m country outlines (see tools/build_world_outlines.py): id, name, rings."""
    import gzip

    return json.loads(gzip.decompress(_WORLD.read_bytes()))["countries"]


MAP_MAX_AREA = 900.0  # points², the largest country marker
MAP_MIN_AREA = 8.0  # points², so one prompt among thousands still shows


def marker_area(n: int, n_max: int) -> float:
    """A country marker's area in points²: proportional to its prompts, the largest MAP_MAX_AREA
    (or 30 per prompt when there are few), never under MAP_MIN_AREA."""
    per_prompt = min(30.0, MAP_MAX_AREA / max(n_max, 1))
    return max(MAP_MIN_AREA, per_prompt * n)


def _anchor(rings: list[list[list[float]]]) -> tuple[float, float]:
    """(lon, lat) for a country's marker: the centroid of its largest ring (the mainland)."""
    best = (-1.0, 0.0, 0.0)
    for ring in rings:
        area = cx = cy = 0.0
        for (x0, y0), (x1, y1) in zip(ring, [*ring[1:], ring[0]], strict=True):
            cross = x0 * y1 - x1 * y0
            area, cx, cy = area + cross, cx + (x0 + x1) * cross, cy + (y0 + y1) * cross
        if area and abs(area) / 2 > best[0]:
            best = (abs(area) / 2, cx / (3 * area), cy / (3 * area))
    if best[0] < 0:  # degenerate rings only: their first point
        return rings[0][0][0], rings[0][0][1]
    return best[1], best[2]


def map_figure(title: str, locations: list[dict], by_country: dict[str, dict]):
    """The world map: a disc per gold country, its area proportional to the country's prompts and
    its colour their accuracy, so a large country with one prompt weighs what one prompt weighs
    (a shaded country would weigh its land area); a country the 1:110m outlines lack is named
    under the map with its n. For prompts with coordinates, the gold location is joined to the
    predicted one. Drawn from outlines the package ships; no tiles, no download."""
    from matplotlib import cm, colors
    from matplotlib.patches import Polygon

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(10, 5.2), dpi=110, layout="constrained")
    cmap = plt.get_cmap("RdYlGn")
    norm = colors.Normalize(0, 100)
    anchors = {}
    for country in world_outlines():
        if country["id"]:
            anchors[country["id"]] = _anchor(country["rings"])
        for ring in country["rings"]:
            ax.add_patch(Polygon(ring, closed=True, facecolor="#eeeeee", edgecolor="#aaaaaa", linewidth=0.3))
    shown = {c: e for c, e in by_country.items() if e.get("value") is not None and e.get("n")}
    placed = sorted((c for c in shown if c in anchors), key=lambda c: (-shown[c]["n"], c))  # small on top
    n_max = max((shown[c]["n"] for c in placed), default=1)
    handles = []
    if placed:
        ax.scatter(
            [anchors[c][0] for c in placed],
            [anchors[c][1] for c in placed],
            s=[marker_area(shown[c]["n"], n_max) for c in placed],
            c=[100 * shown[c]["value"] for c in placed],
            cmap=cmap,
            norm=norm,
            edgecolor="#333333",
            linewidth=0.5,
            zorder=3,
            label="_countries",  # not a legend entry: the size entries below stand for it
        )
        for n in sorted({1, (n_max + 1) // 2, n_max}):
            handles.append(
                ax.scatter([], [], s=marker_area(n, n_max), color="#cccccc", edgecolor="#333333",
                           linewidth=0.5, label=f"{n} prompt{'s' if n != 1 else ''}")
            )  # fmt: skip
    gold = [loc["gold"] for loc in locations]
    pred = [loc for loc in locations if loc.get("predicted")]
    for loc in pred:
        (glat, glon), (plat, plon) = loc["gold"], loc["predicted"]
        ax.plot([glon, plon], [glat, plat], color="#555555", linewidth=0.5, alpha=0.6)
    if gold:
        handles.append(
            ax.scatter([g[1] for g in gold], [g[0] for g in gold], s=14, marker="o", color="#1f4e9c",
                       edgecolor="white", linewidth=0.4, zorder=4, label=f"gold location ({len(gold)})")
        )  # fmt: skip
    if pred:
        handles.append(
            ax.scatter([p["predicted"][1] for p in pred], [p["predicted"][0] for p in pred], s=18,
                       marker="x", color="#d62728", zorder=5, label=f"predicted location ({len(pred)})")
        )  # fmt: skip
    unplaced = sorted((c for c in shown if c not in anchors), key=lambda c: (-shown[c]["n"], c))
    if unplaced:
        listed = ", ".join(f"{c} (n={shown[c]['n']}, {100 * shown[c]['value']:.0f}%)" for c in unplaced[:8])
        more = f" and {len(unplaced) - 8} more" if len(unplaced) > 8 else ""
        ax.text(0.01, 0.01, f"not on this map's outlines: {listed}{more}", transform=ax.transAxes,
                fontsize=7, va="bottom", ha="left")  # fmt: skip
    ax.set_xlim(-180, 180)
    ax.set_ylim(-60, 85)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    if handles:
        ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0, 0.06), fontsize=7, framealpha=0.9,
                  labelspacing=1.8, borderpad=1.0, handletextpad=1.6)  # fmt: skip
    bar = fig.colorbar(cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.8, pad=0.01)
    bar.set_label("accuracy of the prompts whose gold country it is (%)", fontsize=8)
    _fit_title(fig, ax, title)
    return fig


def _save(fig, path: Path) -> None:
    fig.savefig(path)
    _pyplot().close(fig)


def write_report(report: dict, out_dir: str | Path) -> list[Path]:
    """Write report.json, report.md and the PNG plots into out_dir; returns the paths."""
    out = Path(out_dir)
    plots = []
    try:
        for group, name, title in (
            ("by_difficulty", "accuracy_by_difficulty.png", "Accuracy by difficulty (95% Wilson interval)"),
            (
                "by_continent",
                "accuracy_by_continent.png",
                "Accuracy by continent of the gold label (95% Wilson interval)",
            ),
        ):
            _save(bar_figure(f"{report['model']}: {title}", report["accuracy"][group]), out / name)
            plots.append(name)
        locations = report.get("locations") or []
        title = f"{report['model']}: accuracy by gold country (colour; area = prompts)"
        title += "; gold and predicted locations" if locations else ""
        fig = map_figure(title, locations, report["accuracy"].get("by_country") or {})
        _save(fig, out / "map.png")
        plots.append("map.png")
    except ImportError:
        plots = []  # matplotlib missing: the tables still say everything
    (out / "report.json").write_text(
        json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (out / "report.md").write_text(render_markdown(report, plots), encoding="utf-8")
    return [out / "report.json", out / "report.md", *(out / p for p in plots)]
