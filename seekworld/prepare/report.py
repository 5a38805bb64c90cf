"""report.json, report.md, countries.png and rejected.jsonl, built from every split in DIR.

Each prepared split leaves a manifest `DIR/.prepare/<split>.json` (see `pipeline`); the report is
always rebuilt from all of them, so a DIR filled by several runs (train, then the tests) gets one
report, and an image found in two splits is listed under `leakage` whichever run brought it.
`near_duplicates` goes further (see `leakage`): re-encoded, resized or slightly cropped copies,
across splits and within one, by perceptual hash, with the Hamming distance and the threshold.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

__all__ = ["REJECTION_REASONS", "build_report", "countries_figure", "load_manifests", "write_report"]

# Every reason a sample can be left out; rejected.jsonl rows carry one of these.
REJECTION_REASONS = {
    "missing_file": "the image file does not exist or cannot be read, or the row names no image",
    "undecodable": "the image bytes do not decode (corrupt, truncated, not an image)",
    "too_small": "a side is under --min-side, or the aspect ratio is over 200 (Qwen's limit)",
    "unparseable_label": "the label cannot be read (no country, bad JSON, bad coordinates)",
    "image_tag_mismatch": "the prompt's <image> tags and the row's images differ in number",
    "malformed_row": "the row itself cannot be read (bad JSON, no message)",
}

MANIFEST_DIR = ".prepare"
CHART = "countries.png"
_TOP_COUNTRIES = 40


def load_manifests(out_dir: Path) -> dict[str, dict]:
    folder = out_dir / MANIFEST_DIR
    manifests = {}
    for path in sorted(folder.glob("*.json")) if folder.exists() else []:
        m = json.loads(path.read_text(encoding="utf-8"))
        manifests[m["split"]] = m
    return manifests


def _stats(values: list[int]) -> dict[str, float] | None:
    if not values:
        return None
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def build_report(manifests: dict[str, dict]) -> dict[str, Any]:
    splits: dict[str, Any] = {}
    unresolved: list[dict] = []
    by_hash: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for split, m in manifests.items():
        samples = m["samples"]
        tokens_in = [t for s in samples for t in s["tokens_in"]]
        tokens = [t for s in samples for t in s["tokens"]]
        within = Counter(h for s in samples for h in set(s["pixel_hashes"]))
        splits[split] = {
            "inputs": m["inputs"],
            "samples": len(samples),
            "rows": m["rows"],
            "rejected": len(m["rejected"]),
            "rejected_by_reason": dict(sorted(Counter(r["reason"] for r in m["rejected"]).items())),
            "balance": m["balance"],
            "difficulty_before": dict(sorted(Counter(s["difficulty"] or "unknown" for s in samples).items())),
            "difficulty_after": m["difficulty_after"],
            "countries": dict(Counter(s["country_name"] for s in samples).most_common()),
            "continents": dict(Counter(s["continent"] for s in samples).most_common()),
            "datasources": dict(Counter(s["datasource"] for s in samples).most_common()),
            "visual_tokens": {"before": _stats(tokens_in), "after": _stats(tokens)},
            "images": m["images"],
            "duplicate_images_within_split": sum(1 for n in within.values() if n > 1),
            "settings": m["settings"],
        }
        for s in samples:
            if s["unresolved"]:
                unresolved.append(
                    {"split": split, "id": s["id"], "label": s["label"], "why": s["unresolved"]}
                )
            for h in set(s["pixel_hashes"]):
                by_hash[h][split].append(s["id"])
    from seekworld.prepare.leakage import near_duplicates

    leakage = [
        {"pixel_hash": h, "splits": {k: sorted(v) for k, v in sorted(found.items())}}
        for h, found in sorted(by_hash.items())
        if len(found) > 1
    ]
    return {
        "splits": splits,
        "unresolved_labels": unresolved,
        "leakage": leakage,
        "near_duplicates": near_duplicates({split: m["samples"] for split, m in manifests.items()}),
        "rejection_reasons": REJECTION_REASONS,
        "chart": CHART,
    }


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return out


def _weights(balance: dict[str, int] | None) -> str:
    return ", ".join(f"{k}={v}" for k, v in (balance or {}).items()) or "none"


def _markdown(report: dict[str, Any]) -> str:
    lines = ["# seekworld prepare report", ""]
    splits = report["splits"]
    lines += _table(
        ["split", "samples", "rows (balanced)", "rejected", "tokens before (min/med/max)", "tokens after"],
        [
            [
                name,
                s["samples"],
                s["rows"],
                s["rejected"],
                "/".join(str(v) for v in s["visual_tokens"]["before"].values())
                if s["visual_tokens"]["before"]
                else "-",
                "/".join(str(v) for v in s["visual_tokens"]["after"].values())
                if s["visual_tokens"]["after"]
                else "-",
            ]
            for name, s in splits.items()
        ],
    )
    for name, s in splits.items():
        lines += [
            "",
            f"## {name}",
            "",
            f"Inputs: {', '.join(s['inputs'])}. Balance: {_weights(s['balance'])}.",
        ]
        lines += ["", "Difficulty (before → after balancing):", ""]
        keys = sorted(set(s["difficulty_before"]) | set(s["difficulty_after"]))
        lines += _table(
            ["difficulty", "before", "after"],
            [[k, s["difficulty_before"].get(k, 0), s["difficulty_after"].get(k, 0)] for k in keys],
        )
        if s["rejected_by_reason"]:
            lines += ["", "Rejected:", ""]
            lines += _table(["reason", "samples"], [[k, v] for k, v in s["rejected_by_reason"].items()])
        lines += ["", "Continents:", ""]
        lines += _table(["continent", "samples"], [[k, v] for k, v in s["continents"].items()])
        lines += ["", "Countries:", ""]
        lines += _table(["country", "samples"], [[k, v] for k, v in s["countries"].items()])
        img = s["images"]
        lines += [
            "",
            f"Images: {img['written']} written, {img['reused']} reused from an earlier run, "
            f"{img['resized']} downscaled to the pixel budget; "
            f"{s['duplicate_images_within_split']} appear more than once in this split.",
        ]
    lines += ["", "## Labels not resolved in the gazetteer (kept)", ""]
    if report["unresolved_labels"]:
        lines += _table(
            ["split", "id", "label", "why"],
            [
                [u["split"], u["id"], u["label"].replace("|", "\\|"), u["why"]]
                for u in report["unresolved_labels"]
            ],
        )
    else:
        lines.append("None.")
    lines += ["", "## Images in more than one split (test leakage)", ""]
    if report["leakage"]:
        lines += _table(
            ["pixel hash", "where"],
            [
                [
                    leak["pixel_hash"][:12],
                    "; ".join(f"{k}: {', '.join(v)}" for k, v in leak["splits"].items()),
                ]
                for leak in report["leakage"]
            ],
        )
    else:
        lines.append("None.")
    lines += _near_duplicate_lines(report.get("near_duplicates"))
    lines += ["", f"![samples per country]({CHART})", ""]
    return "\n".join(lines)


def _near_duplicate_lines(near: dict | None) -> list[str]:
    if not near:
        return []
    lines = [
        "",
        "## Near-duplicate images (perceptual hash)",
        "",
        f"{near['hash']}; pairs at Hamming distance ≤ {near['threshold']} of 64 bits "
        f"({near['images_hashed']} images hashed"
        + (
            f"; {near['samples_without_hash']} samples from an older run not hashed"
            if near["samples_without_hash"]
            else ""
        )
        + "). Distance 0 is the same picture; a few bits, a re-encode, resize or small crop.",
        "",
        "### Across splits (test leakage)",
        "",
    ]
    if near["across_splits"]:
        lines += _table(
            ["split", "id", "split", "id", "distance"],
            [
                [p["a"]["split"], p["a"]["id"], p["b"]["split"], p["b"]["id"], p["distance"]]
                for p in near["across_splits"]
            ],
        )
    else:
        lines.append("None.")
    lines += ["", "### Within a split", ""]
    rows = [
        [split, p["ids"][0], p["ids"][1], p["distance"]]
        for split, ps in near["within_split"].items()
        for p in ps
    ]
    lines += _table(["split", "id", "id", "distance"], rows) if rows else ["None."]
    return lines


def countries_figure(report: dict[str, Any]) -> Any:
    """Samples per country, one stacked bar per country, a colour per split. Returns the Figure."""
    import matplotlib

    matplotlib.use("Agg")  # files only; never a display
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    splits = report["splits"]
    totals: Counter[str] = Counter()
    for s in splits.values():
        totals.update(s["countries"])
    countries = [c for c, _ in totals.most_common(_TOP_COUNTRIES)][::-1]
    fig, ax = plt.subplots(figsize=(8, 1.5 + 0.25 * max(1, len(countries))), layout="constrained")
    left = [0] * len(countries)
    for name, s in splits.items():
        values = [s["countries"].get(c, 0) for c in countries]
        ax.barh(countries, values, left=left, label=name)
        left = [a + b for a, b in zip(left, values, strict=True)]
    more = len(totals) - len(countries)
    title = "Samples per country (unique, before balancing)"
    ax.set_title(title + (f"; {more} more not shown" if more > 0 else ""))
    ax.set_xlabel("samples")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if splits:  # outside the axes, on the right: inside, it covers the shortest bars
        fig.legend(title="split", loc="outside right upper")
    return fig


def _chart(report: dict[str, Any], path: Path) -> None:
    import matplotlib.pyplot as plt

    fig = countries_figure(report)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_report(out_dir: Path) -> dict[str, Any]:
    """Rebuild every report file from the manifests (each written atomically)."""
    from seekworld.io.files import atomic_write as write

    manifests = load_manifests(out_dir)
    report = build_report(manifests)
    rejected = [
        json.dumps({"split": split, **r}, ensure_ascii=False)
        for split, m in manifests.items()
        for r in m["rejected"]
    ]
    write(out_dir / "rejected.jsonl", ("\n".join(rejected) + "\n" if rejected else "").encode())
    write(out_dir / "report.json", json.dumps(report, indent=2, ensure_ascii=False).encode())
    write(out_dir / "report.md", _markdown(report).encode())
    tmp = out_dir / f".{CHART}.tmp.png"
    _chart(report, tmp)
    tmp.replace(out_dir / CHART)
    return report
