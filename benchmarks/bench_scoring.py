"""Responses scored per second on one core through the whole scoring core (no I/O).

    python benchmarks/bench_scoring.py [--n 100000] [--variant rule+length]

What is timed: `score_samples` (cut the response out of the chat-templated query, then every
component of the variant: format, accuracy, length ...), as the reward server and reward file run it.

Workload: every response is distinct and shares no repeated substring with the others beyond
single words: the reasoning is random pseudo-words (Latin, Cyrillic, Han, Hangul syllables), the
answer a (country, region) drawn from the gazetteer's own names in 12 languages, written in one of
several shapes (comma, region first, `$...$`, field labels, a gloss, trailing prose); no two answers
are the same string. Labels repeat 8 times, as a prompt's samples do in RL. Three passes:
- cold: caches cleared, every answer seen for the first time (the worst case);
- warm caches: right after the cold pass, 20,000 more responses whose answers are new strings; the
  caches hold what the cold pass left (per answer and per name, within their byte budgets), so
  names met before resolve from them (about one new name per answer remains);
- answers seen: those 20,000 answers again after new random reasoning: what a group's samples cost
  when they agree on an answer, and RL's steady state, where a policy's answers repeat across steps
  while its reasoning does not. No cache is keyed on the reasoning: only the answer is remembered.
Then the cost of each stage per response (cold caches; `length` is timed on every response, though
scoring computes it only for right answers), SeekWorld's per-character count (per-character
`unicodedata`, and its C-level scans) and the new-letter measure alone (same run), and
`seekworld score` against the JSON work it does (reading its input rows,
writing the same output rows) with nothing else: on the distinct responses, and on a file whose
answers repeat 8 times (new reasoning each). Targets: >= 50,000 responses/s; `seekworld score`
<= ~2x its JSON reading and writing.
"""

from __future__ import annotations

import argparse
import os
import random
import string
import time
import unicodedata

LANGS = ("en", "local", "zh", "fr", "it", "de", "ja", "ko", "ru", "es", "pt", "ar")
SHAPES = (
    "{c}, {r}",
    "${c},{r}$",
    "{r}, {c}",
    "Country: {c}\nRegion: {r}",
    "{c}, {r} ({r2})",
    "{c}, {r}: {prose}",
    "**{c}**, **{r}**",
)
PROMPT = (
    "<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>Where?<|im_end|>\n<|im_start|>assistant\n"
)
ALPHABETS = (
    string.ascii_lowercase,
    "абвгдежзиклмнопрстуфхцчшщыэюя",
    "".join(chr(c) for c in range(0x4E00, 0x4E00 + 3000)),
    "".join(chr(c) for c in range(0xAC00, 0xAC00 + 2000)),
)


def _word(rng: random.Random) -> str:
    alphabet = ALPHABETS[rng.randrange(len(ALPHABETS))]
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(2, 9)))


def _reasoning(rng: random.Random) -> str:
    words = [_word(rng) for _ in range(rng.randint(40, 120))]
    for i in range(8, len(words), 9):
        words[i] += rng.choice(",.;:!?，。")
    return " ".join(words)


def build(n: int, seed: int = 0, avoid: frozenset[str] = frozenset()) -> tuple[list[str], list[str]]:
    """n chat-templated queries with distinct answers (none of them in `avoid`), and their labels."""
    from seekworld.geo.gazetteer import load_gazetteer

    gaz = load_gazetteer()
    rng = random.Random(seed)
    region_ids = sorted(gaz.regions)
    queries: list[str] = []
    labels: list[str] = []
    seen: set[str] = set()
    label = ""
    while len(queries) < n:
        rid = region_ids[rng.randrange(len(region_ids))]
        region, country = gaz.regions[rid], gaz.countries.get(gaz.regions[rid]["country"])
        if country is None:
            continue
        if len(queries) % 8 == 0:
            label = f"${country['name']},{region['name']}$"
        lang, lang2 = rng.choice(LANGS), rng.choice(LANGS)
        c = country["names"].get(lang) or country["name"]
        r = region["names"].get(lang) or region["name"]
        r2 = region["names"].get(lang2) or region["name"]
        answer = rng.choice(SHAPES).format(c=c, r=r, r2=r2, prose=f"{_word(rng)} {_word(rng)}")
        if answer in seen or answer in avoid:
            continue
        seen.add(answer)
        response = f"<think>{_reasoning(rng)}</think>\n<answer>{answer}</answer>"
        queries.append(PROMPT + response + "<|im_end|>")
        labels.append(label)
    return queries, labels


def answers_of(queries: list[str]) -> frozenset[str]:
    return frozenset(q[q.index("<answer>") + 8 : q.index("</answer>")] for q in queries)


def with_new_reasoning(queries: list[str], seed: int) -> list[str]:
    """The same answers after new random reasoning: distinct responses whose answers were seen."""
    rng = random.Random(seed)
    out = []
    for q in queries:
        end = q.index("</think>")
        out.append(q[: q.index("<think>") + 7] + _reasoning(rng) + q[end:])
    return out


def clear_caches() -> None:
    from seekworld.geo import answer, label, normalize

    for fn in (
        answer._parse_cached,
        answer._pieces,
        answer._country_of,
        answer._places_in,
        label._parse_string,
        label._parse_dict,
        normalize.normalize,
        normalize.strip_type_words,
    ):
        fn.cache_clear()


def rate(queries: list[str], labels: list[str], variant: str) -> float:
    from seekworld.rewards.scoring import score_samples
    from seekworld.rewards.variants import RewardConfig
    from seekworld.service.wire import extract_response

    config = RewardConfig.from_variant(variant)
    start = time.perf_counter()
    for i in range(0, len(queries), 256):  # upstream sends batches; the service cuts, then scores
        responses = [extract_response(q, PROMPT) for q in queries[i : i + 256]]
        score_samples(responses, labels[i : i + 256], config, strict=True)
    return len(queries) / (time.perf_counter() - start)


def stage_costs(queries: list[str], labels: list[str]) -> list[tuple[str, float]]:
    """Microseconds per response of each stage, caches cleared first (the cold case)."""
    from seekworld.geo.answer import AnswerError, extract_answer, parse_answer
    from seekworld.geo.label import parse_label
    from seekworld.rewards import format as format_reward
    from seekworld.rewards import length
    from seekworld.service.wire import extract_response

    clear_caches()
    responses = [extract_response(q, PROMPT) for q in queries]
    answers = []
    for r in responses:
        try:
            answers.append(extract_answer(r))
        except AnswerError:
            answers.append("")

    def per_response(fn, items) -> float:
        start = time.perf_counter()
        for item in items:
            fn(item)
        return (time.perf_counter() - start) / len(items) * 1e6

    def find_answer(r: str) -> None:
        try:
            extract_answer(r)
        except AnswerError:
            pass

    return [
        ("cut the response out of the query", per_response(lambda q: extract_response(q, PROMPT), queries)),
        ("format", per_response(format_reward.compute_score, responses)),
        ("length", per_response(length.compute_score, responses)),
        ("find the <answer> block", per_response(find_answer, responses)),
        ("parse and resolve the answer (cold)", per_response(parse_answer, answers)),
        ("the same answers again (cache hits)", per_response(parse_answer, answers)),
        ("label (parsed once per prompt, then hits)", per_response(parse_label, labels)),
    ]


def old_length_rate(queries: list[str]) -> float:
    """The per-character `unicodedata` count this benchmark replaced, on the same reasoning."""
    punct = frozenset(string.punctuation)
    start = time.perf_counter()
    for q in queries:
        think = q[q.index("<think>") + 7 : q.index("</think>")]
        sum(
            1
            for ch in think
            if not ch.isspace() and ch not in punct and not unicodedata.category(ch).startswith("P")
        )
    return len(queries) / (time.perf_counter() - start)


def new_length_rate(queries: list[str], fn_name: str = "count_reasoning_chars") -> float:
    from seekworld.rewards import length

    fn = getattr(length, fn_name)
    start = time.perf_counter()
    for q in queries:
        fn(q[q.index("<think>") + 7 : q.index("</think>")])
    return len(queries) / (time.perf_counter() - start)


def cli_ratio(queries: list[str], labels: list[str], variant: str) -> tuple[float, float, float]:
    """Seconds for `seekworld score` per file of these responses beyond its fixed cost, that fixed
    cost (a one-row file: interpreter start, imports, the gazetteer and its tables), and the JSON
    work of the same rows with nothing else (the I/O floor): parsing the input lines, serialising
    the output rows it wrote (parsed beforehand) and writing them."""
    import json
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        src, one, dst = Path(tmp) / "in.jsonl", Path(tmp) / "one.jsonl", Path(tmp) / "out.jsonl"
        with src.open("w", encoding="utf-8") as f:
            for q, lab in zip(queries, labels, strict=True):
                response = q[len(PROMPT) : -len("<|im_end|>")]  # what a predictions file holds
                f.write(json.dumps({"response": response, "label": lab}, ensure_ascii=False) + "\n")
        one.write_text(src.read_text(encoding="utf-8").split("\n", 1)[0] + "\n", encoding="utf-8")

        def score(path: Path) -> float:
            cmd = [sys.executable, "-m", "seekworld", "score", "--input", str(path), "--output", str(dst)]
            start = time.perf_counter()
            subprocess.run([*cmd, "--reward", variant], check=True, capture_output=True)
            return time.perf_counter() - start

        fixed = min(score(one) for _ in range(3))
        cli = score(src) - fixed
        with dst.open(encoding="utf-8") as f:
            written = [json.loads(line) for line in f]
        floor = Path(tmp) / "floor.jsonl"
        start = time.perf_counter()
        with src.open(encoding="utf-8") as fin, floor.open("w", encoding="utf-8") as fout:
            for line, row in zip(fin, written, strict=True):
                json.loads(line)
                fout.write(json.dumps(row, ensure_ascii=False) + "\n")
        return cli, fixed, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--variant", default="rule+length")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core

    queries, labels = build(args.n, seed=1)
    warmup_q, warmup_l = build(2000, seed=2)
    rate(warmup_q, warmup_l, args.variant)  # imports, regex compilation, the length tables

    window = min(len(queries), 20_000)
    fresh_q, fresh_l = build(window, seed=6, avoid=answers_of(queries))
    clear_caches()
    cold = rate(queries, labels, args.variant)
    warm_caches = rate(fresh_q, fresh_l, args.variant)
    answers_seen = rate(with_new_reasoning(fresh_q, seed=4), fresh_l, args.variant)
    mean_len = sum(map(len, queries)) / len(queries) - len(PROMPT)
    print(f"variant {args.variant}; {args.n:,} distinct answers, mean {mean_len:.0f} characters; one core")
    passes = (
        ("cold: caches cleared, every answer new", cold),
        (f"warm caches: {window:,} more new answers", warm_caches),
        (f"answers seen: those {window:,} answers again", answers_seen),
    )
    print(f"{'pass (every response new: new reasoning)':<46}{'responses/s':>12}  target >= 50,000")
    for name, value in passes:
        print(f"{name:<46}{value:>12,.0f}  {'met' if value >= 50_000 else 'NOT met'}")
    stage_q, stage_l = build(min(args.n, 20_000), seed=3)
    print(f"\n{f'stage (cold caches, {len(stage_q):,} new responses)':<44}{'us/response':>14}")
    for name, micros in stage_costs(stage_q, stage_l):
        print(f"{name:<44}{micros:>14.2f}")
    sample = queries[: min(len(queries), 20_000)]
    print(f"\n{'length count alone, per-char unicodedata':<44}{old_length_rate(sample):>14,.0f}")
    print(f"{'SeekWorld count alone, C-level scans':<44}{new_length_rate(sample):>14,.0f}")
    print(f"{'new-letter measure alone (length)':<44}{new_length_rate(sample, 'count_new_letters'):>14,.0f}")
    rows = min(len(queries), 20_000)
    groups = max(1, rows // 8)
    repeated = [q for q in queries[:groups] for q in with_new_reasoning([q] * 8, seed=5)]
    print(f"\n{f'seekworld score, {rows:,} rows':<36}{'fixed s':>9}{'rows s':>9}{'JSON s':>9}{'ratio':>8}")
    for name, qs, ls in (
        ("all answers distinct", queries[:rows], labels[:rows]),
        ("each answer 8 times", repeated, [lab for lab in labels[:groups] for _ in range(8)]),
    ):
        cli, fixed, io_only = cli_ratio(qs, ls, args.variant)
        print(f"{name:<36}{fixed:>9.2f}{cli:>9.2f}{io_only:>9.2f}{cli / io_only:>7.1f}x")
    print(
        "(fixed: a one-row file (start-up, imports, the gazetteer); rows: the rest; JSON: the same rows'\n"
        " input parsed and output written with nothing else. Target: rows <= ~2x JSON)"
    )


if __name__ == "__main__":
    main()
