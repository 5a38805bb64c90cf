"""Answer checks per second on one core, and the gazetteer's load time.

    python benchmarks/bench_verifier.py [--n 200000]

Workload: responses built from real label/answer pairs across categories (English, local and
Chinese names, short forms, type words, hedges, wrong regions, no answer block). Two passes:
- cold: every response is distinct (answer text varies), caches cleared first — the worst case;
- warm: RL-like repetition (16 samples per prompt give many identical answers).
Target: >= 50,000 checks/s.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time

PAIRS = [
    (
        "$china,guangdong/guangdong province$",
        ["中国，广东省", "China, Guangdong", "China, Guangxi", "中國，廣東"],
    ),
    ("$united states,texas$", ["USA, TX", "美国，德克萨斯州", "United States, Texas", "USA, Arkansas"]),
    ("$japan,osaka/osaka prefecture$", ["日本，大阪府", "Japan, Osaka", "Japan, Kyoto", "Japan"]),
    ("$germany,bavaria/bayern$", ["Deutschland, Bayern", "Germany, Bavaria", "Germany, Saxony"]),
    ("$spain,galicia$", ["$Spain, Galicia$", "España, Galicia", "Spain, Catalonia or Galicia"]),
    ("$russia,moscow oblast$", ["Россия, Московская область", "Russia, Moscow Oblast", "Russia, Moscow"]),
    ("$brazil,são paulo$", ["Brazil, Sao Paulo", "Brasil, SP", "Brazil, Rio de Janeiro"]),
    ("$united kingdom,scotland$", ["UK, Scotland", "United Kingdom, Wales", "Scotland, UK"]),
    ("$india,kerala$", ["India, Kerala", "India, Tamil Nadu", "भारत, केरल"]),
    ("$china,inner mongolia$", ["中国，内蒙古自治区", "China, Inner Mongolia", "China, Nei Mongol"]),
]
WRAPPERS = [
    "<think>{t}</think><answer>{a}</answer>",
    "<think>{t}</think>\n<answer>{a}</answer>",
    "{t} <answer>{a}</answer>",
    "<think>{t}</think> no answer block",
]


def build(n: int, distinct: bool, seed: int = 0) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label, answers = PAIRS[rng.randrange(len(PAIRS))]
        answer = answers[rng.randrange(len(answers))]
        if distinct:
            answer = f"{answer}, {i}" if i % 2 else f"{answer} " + " " * (i % 7)
        think = "The signs use this script and the road markings look like that. " * (1 + i % 3)
        rows.append((WRAPPERS[i % len(WRAPPERS)].format(t=think, a=answer), label))
    return rows


def time_checks(rows: list[tuple[str, str]]) -> float:
    from seekworld.geo.label import parse_label
    from seekworld.rewards.accuracy import check

    golds = {label: parse_label(label) for _, label in rows}
    start = time.perf_counter()
    for response, label in rows:
        check(response, golds[label])
    return len(rows) / (time.perf_counter() - start)


def clear_caches() -> None:
    from seekworld.geo import answer, label, normalize

    for fn in (answer._parse_cached, label._parse_string, normalize.normalize, normalize.strip_type_words):
        fn.cache_clear()


def load_time() -> float:
    code = (
        "import time; t=time.perf_counter(); from seekworld.geo.gazetteer import load_gazetteer; "
        "g=load_gazetteer(); print(time.perf_counter()-t, len(g.regions), len(g.countries))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    seconds, regions, countries = out.split()
    print(
        f"gazetteer: {countries} countries, {regions} regions; import + load in a fresh process: "
        f"{float(seconds) * 1000:.0f} ms"
    )
    return float(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=200_000)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core

    load_time()
    from seekworld.geo.gazetteer import load_gazetteer

    load_gazetteer()
    time_checks(build(2000, distinct=False))  # warm-up: imports, regex compilation

    clear_caches()
    cold = time_checks(build(args.n, distinct=True, seed=1))
    warm = time_checks(build(args.n, distinct=False, seed=2))
    print(f"{'workload':<36}{'checks':>10}{'checks/s':>14}")
    print(f"{'cold (all answers distinct)':<36}{args.n:>10}{cold:>14,.0f}")
    print(f"{'warm (RL-like repetition)':<36}{args.n:>10}{warm:>14,.0f}")
    print(
        f"target >= 50,000 checks/s: cold {'met' if cold >= 50_000 else 'NOT met'}, "
        f"warm {'met' if warm >= 50_000 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
