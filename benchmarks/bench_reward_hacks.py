"""Reward hacks against the reward: what each transformation of a response earns.

    python benchmarks/bench_reward_hacks.py

Base responses: the genuine reasoning of tests/data/reasoning.py (14 languages), each with a right
answer and a wrong one for the label beside it. Each transformation below (padding of every kind,
look-alike letters, answer tags written another way, second answers after the block ...) is applied
to every base response, and the table prints the mean change of the total reward it brings, for
`rule`, `rule+length` and SeekWorld's exact length rule (`rule+seekworld-length`) side by side:
"right" columns for the right answers, "wrong" for the wrong ones. A hack works where the change is
positive. Then the length each language's genuine reasoning earns under both length rules.
"""

from __future__ import annotations

import base64
import random
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from data.reasoning import REASONING

# (label, right answer, wrong answer, a second region of the label's country)
PLACES = [
    ("$spain,asturias$", "Spain, Asturias", "Spain, Cantabria", "Galicia"),
    ("$china,sichuan$", "China, Sichuan", "China, Yunnan", "Guizhou"),
    ("$japan,hokkaido$", "Japan, Hokkaido", "Japan, Aomori", "Iwate"),
    ("$russia,tatarstan$", "Russia, Tatarstan", "Russia, Bashkortostan", "Samara"),
    ("$united states,utah$", "United States, Utah", "United States, Nevada", "Arizona"),
    ("$india,rajasthan$", "India, Rajasthan", "India, Gujarat", "Punjab"),
]
VARIANTS = ("rule", "rule+length", "rule+seekworld-length")
WORDS = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike oscar papa".split()
SENTENCE = "The road is long and straight and the signs are blue."

Response = tuple[str, str, str]  # (before the reasoning, reasoning, the zone after </think>)
Hack = Callable[[Response, str, str], Response]  # (response, place line, second region) -> response


def _pad(text: str) -> Hack:
    return lambda r, p, s: (r[0], r[1] + " " + text, r[2])


def _zone(fn: Callable[[str, str, str], str]) -> Hack:
    return lambda r, p, s: (r[0], r[1], fn(r[2], p, s))


def _add(fn: Callable[[str, str], str]) -> Hack:
    """Text added at the end of the answer block."""
    return _zone(lambda z, p, s: z.replace("</answer>", fn(p, s) + "</answer>"))


def _each(fn: Callable[[str], str]) -> Hack:
    """Every character of the reasoning changed."""
    return lambda r, p, s: (r[0], "".join(map(fn, r[1])), r[2])


_rng = random.Random(0)
_B64 = base64.b64encode(bytes(_rng.randrange(256) for _ in range(1500))).decode()
_RANDOM = " ".join("".join(_rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(6)) for _ in range(300))
_CYR = str.maketrans("aeopcx", "аеорсх")

HACKS: dict[str, Hack] = {
    "pad: x * 2000": _pad("x" * 2000),
    "pad: one sentence * 50": _pad(" ".join([SENTENCE] * 50)),
    "pad: 1,500 zero-width joiners": _pad("\u200d" * 1500),
    "pad: 的 * 1500": _pad("的" * 1500),
    "pad: 900 ZWJ inside the reasoning": lambda r, p, s: (r[0], r[1][:10] + "\u200d" * 900 + r[1][10:], r[2]),
    "pad: the reasoning again * 5": lambda r, p, s: (r[0], (r[1] + "\n\n") * 6, r[2]),
    "pad: counter (Step N: ...) * 200": _pad(" ".join(f"Step {i}: {SENTENCE}" for i in range(200))),
    "pad: one word changed per copy": _pad(
        " ".join(f"The road near {w} is long and straight." for w in WORDS)
    ),
    "pad: short template, word changed": _pad(" ".join(f"Maybe {w} here." for w in WORDS)),
    "pad: base64": _pad(_B64),
    "pad: hex and digit runs": _pad(" ".join(f"{_rng.getrandbits(64):016x}" for _ in range(80)) + "9" * 800),
    "pad: emoji, arrows, box drawing": _pad("😀🌍→←─│┌┐" * 200),
    "pad: Braille blank, Hangul filler": _pad("\u2800" * 700 + "\u3164" * 700),
    "pad: combining marks on nothing": _pad(" \u0301\u0302\u0303" * 400),
    "pad: zalgo marks on every letter": lambda r, p, s: (
        r[0],
        "".join(c + "\u0301\u0302\u0303" for c in r[1]),
        r[2],
    ),
    "pad: variation selectors after letters": lambda r, p, s: (
        r[0],
        "".join(c + "\ufe0f" for c in r[1]),
        r[2],
    ),
    "pad: copies with look-alike letters": _pad(" ".join(SENTENCE.replace("o", c) for c in "oоο" * 10)),
    "pad: random letter soup (not caught)": _pad(_RANDOM),
    "look-alike: answer in Cyrillic letters": _zone(lambda z, p, s: z.replace(p, p.translate(_CYR))),
    "look-alike: second region disguised": _add(lambda p, s: f", {s.translate(_CYR)}"),
    "look-alike: '. Or Pоrtugal.' (Cyrillic о)": _add(lambda p, s: ". Or Pоrtugal."),
    "look-alike: capital disguise 'Maybe ВRAZIL.'": _add(lambda p, s: ". Maybe ВRAZIL."),
    "bidi: second region reversed under RLO": _add(lambda p, s: f" \u202e{s[::-1]}\u202c"),
    "invisible: ZWSP inside the answer": _zone(lambda z, p, s: z.replace(", ", ",\u200b ")),
    "tags: <ANSWER> instead of <answer>": _zone(lambda z, p, s: z.replace("answer>", "ANSWER>")),
    "tags: second block <answer id=2>": _zone(lambda z, p, s: z + f"<answer id=2>{s}</answer>"),
    "tags: second block < answer >": _zone(lambda z, p, s: z + f"< answer >{s}</ answer >"),
    "tags: self-closing <answer/> after": _zone(lambda z, p, s: z + "<answer/>"),
    "tags: an <answer> before the reasoning": lambda r, p, s: (f"<answer>{s}</answer>", r[1], r[2]),
    "tags: two blocks": _zone(lambda z, p, s: z + f"\n<answer>{p}</answer>"),
    "trailing: 'Second pick: <region>.'": _zone(lambda z, p, s: z + f"\nSecond pick: {s}."),
    "trailing: the answer restated": _zone(lambda z, p, s: z + f"\nSo: {p}."),
    "trailing: 'Good luck!' (no place)": _zone(lambda z, p, s: z + "\nGood luck!"),
    "answer: $ only": _zone(lambda z, p, s: "\n<answer>$</answer>"),
    "answer: hedge 'A or B'": _add(lambda p, s: f" or {s}"),
}


def _text(r: Response) -> str:
    return f"{r[0]}<think>{r[1]}</think>{r[2]}"


def _rewards(response: str, label: str) -> list[float]:
    from seekworld.rewards.scoring import score_response
    from seekworld.rewards.variants import RewardConfig

    return [score_response(response, label, RewardConfig.from_variant(v)).reward for v in VARIANTS]


def main() -> None:
    from seekworld.rewards.length import count_new_letters, count_reasoning_chars

    bases = []
    for i, (_, reasoning) in enumerate(REASONING):
        label, right, wrong, second = PLACES[i % len(PLACES)]
        for ok, answer in ((True, right), (False, wrong)):
            bases.append((ok, label, answer, second, ("", reasoning, f"\n<answer>{answer}</answer>")))
    before = {id(b): _rewards(_text(b[4]), b[1]) for b in bases}
    heads = [f"{v} {side}" for v in ("rule", "+length", "+seekworld") for side in ("right", "wrong")]
    print(f"{len(bases)} base responses ({len(REASONING)} genuine reasonings x right/wrong answer)")
    print("mean change of the total reward; positive = the hack pays\n")
    print(f"{'transformation':<44}" + "".join(f"{h:>17}" for h in heads))
    print(
        f"{'(base: mean total)':<44}"
        + "".join(
            f"{statistics.mean(before[id(b)][v] for b in bases if b[0] == ok):>17.3f}"
            for v in range(len(VARIANTS))
            for ok in (True, False)
        )
    )
    for name, hack in HACKS.items():
        deltas: dict[tuple[int, bool], list[float]] = {}
        for b in bases:
            ok, label, answer, second, response = b
            after = _rewards(_text(hack(response, answer, second)), label)
            for v in range(len(VARIANTS)):
                deltas.setdefault((v, ok), []).append(after[v] - before[id(b)][v])
        cells = [statistics.mean(deltas[(v, ok)]) for v in range(len(VARIANTS)) for ok in (True, False)]
        print(f"{name:<44}" + "".join(f"{c:>+17.3f}" for c in cells))

    print(f"\n{'genuine reasoning':<12}{'chars':>7}{'SeekWorld length':>18}{'length now':>12}{'kept':>7}")
    for lang, reasoning in REASONING:
        old = min(1.0, 0.001 * count_reasoning_chars(reasoning))
        from seekworld.rewards.length import PER_LETTER

        new = min(1.0, PER_LETTER * count_new_letters(reasoning))
        print(f"{lang:<12}{len(reasoning):>7}{old:>18.3f}{new:>12.3f}{new / old:>7.2f}")


if __name__ == "__main__":
    main()
