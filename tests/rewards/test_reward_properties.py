"""Properties of the reward over generated responses and every label form (Hypothesis), so a new
hole fails here rather than in a held-out set (issue: the reward pays only for knowing the place).

- one answer, one place: no answer is paid full accuracy against two labels of different regions;
- padding invariance: padding inserted into the reasoning never raises the total;
- clean beats messy: extra answers, answer tags, prose naming a place, never earn more;
- accuracy dominance: for every default variant, a wrong answer earns less than any right one
  with the same format score;
- the canonical reading is idempotent, and folds only to ASCII.
"""

from __future__ import annotations

import re

import pytest
from data.reasoning import REASONING
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from seekworld.geo.gazetteer import load_gazetteer
from seekworld.rewards.scoring import score_response
from seekworld.rewards.variants import VARIANTS, RewardConfig
from seekworld.text import canonical

GAZ = load_gazetteer()
# Regions the table names in several languages, from countries with several regions.
REGIONS = sorted(
    rid for rid, r in GAZ.regions.items() if len(r.get("names", {})) >= 3 and r["country"] in GAZ.countries
)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Look-alikes a policy would swap in (Cyrillic, Greek, Lisu, small capitals) and invisible characters.
LOOK_ALIKES = {
    "a": "аα",
    "e": "еꓰ",
    "o": "оοꓳ",
    "p": "рρ",
    "c": "сꓚ",
    "i": "іι",
    "s": "ѕꓢ",
    "x": "хχ",
    "y": "у",
}
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\ufe0f", "\U000e0041", "\u034f"]


def _names(rid: str) -> list[str]:
    region = GAZ.regions[rid]
    return [region["name"], *region.get("names", {}).values()]


@st.composite
def disguised(draw: st.DrawFn, text: str) -> str:
    """`text` with some letters swapped for look-alikes and invisible characters inserted."""
    out = []
    for ch in text:
        swaps = LOOK_ALIKES.get(ch)
        if swaps and draw(st.booleans()):
            ch = draw(st.sampled_from(swaps))
        out.append(ch)
        if draw(st.integers(0, 9)) == 0:
            out.append(draw(st.sampled_from(INVISIBLE)))
    return "".join(out)


def _labels(rid: str) -> list[object]:
    region = GAZ.regions[rid]
    country = GAZ.countries[region["country"]]["name"]
    return [f"${country},{region['name']}$", {"country": country, "region": region["name"]}]


@st.composite
def two_regions_answer(draw: st.DrawFn) -> tuple[str, str, str]:
    a = draw(st.sampled_from(REGIONS))
    same_country = [r for r in REGIONS if GAZ.regions[r]["country"] == GAZ.regions[a]["country"] and r != a]
    b = draw(st.sampled_from(same_country or REGIONS))
    country = GAZ.countries[GAZ.regions[a]["country"]]["name"]
    name_a, name_b = draw(st.sampled_from(_names(a))), draw(st.sampled_from(_names(b)))
    shape = draw(
        st.sampled_from(
            [
                "{c}, {a}, {b}",
                "{c}, {a}. Or {b}.",
                "{c}, {a} ({b})",
                "{c}, {a}/{b}",
                "{a}, {c}; maybe {b}",
                "{c}, {a} — perhaps {b}",
                "{c}, {a}, {c}, {b}",
            ]
        )
    )
    content = shape.format(c=country, a=name_a, b=draw(disguised(name_b)))
    return a, b, content


@SETTINGS
@given(two_regions_answer(), st.sampled_from(["", "\n", " "]))
def test_one_answer_is_never_paid_for_two_regions(case, space):
    a, b, content = case
    assume(GAZ.territories.get(a, a) != GAZ.territories.get(b, b))
    response = f"<think>Signs and plates.</think>{space}<answer>{content}</answer>"
    for label_a, label_b in zip(_labels(a), _labels(b), strict=True):
        full_a = score_response(response, label_a).components["accuracy"] == 1.0
        full_b = score_response(response, label_b).components["accuracy"] == 1.0
        assert not (full_a and full_b), (content, label_a, label_b)


# --- padding -------------------------------------------------------------------------------------

GENUINE = [text for _, text in REASONING]
ENCODED = ["aGVsbG8gd29ybGQgcGFkZGluZw==", "3f9a7c2e1b0d4f6a", "QmFzZTY0IHBhZGRpbmcgaGVyZQ"]
_CLAUSE_END = re.compile(r"[.,;:!?。，、；：！？](?=\s|$)|[。，、；：！？]")


@st.composite
def padding(draw: st.DrawFn, reasoning: str) -> str:
    """Padding of one kind, inserted into `reasoning` where that kind can go (the docstring of
    seekworld.rewards.length says what each kind is)."""
    kind = draw(
        st.sampled_from(["invisible", "filler", "marks", "digits", "encoded", "run", "copy", "near-copy"])
    )
    if kind in ("invisible", "filler"):  # anywhere, even inside a word
        pool = INVISIBLE if kind == "invisible" else ["😀", "→", "─", "\u2800", "\u3164", "©", "★", "🇪🇸"]
        at = draw(st.integers(0, len(reasoning)))
        return reasoning[:at] + draw(st.sampled_from(pool)) * draw(st.integers(1, 300)) + reasoning[at:]
    spaces = [m.end() for m in re.finditer(r"\s", reasoning)] or [len(reasoning)]
    at = draw(st.sampled_from(spaces))
    if kind == "marks":  # combining marks on nothing
        return reasoning[:at] + "\u0301\u0302\u0308" * draw(st.integers(1, 50)) + " " + reasoning[at:]
    if kind == "digits":
        return (
            reasoning[:at]
            + "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=1)))
            + " "
            + reasoning[at:]
        )
    if kind == "encoded":
        blob = draw(
            st.sampled_from(
                ["aGVsbG8gd29ybGQgcGFkZGluZw==", "3f9a7c2e1b0d4f6a", "QmFzZTY0IHBhZGRpbmcgaGVyZQ"]
            )
        )
        return reasoning[:at] + (blob + " ") * draw(st.integers(1, 40)) + reasoning[at:]
    if kind == "run":  # a character repeated: longer than a word
        return (
            reasoning[:at]
            + draw(st.sampled_from("xz的あ")) * draw(st.integers(13, 2000))
            + " "
            + reasoning[at:]
        )
    # Copies of a clause already read, at a clause boundary after it.
    ends = [m.end() for m in _CLAUSE_END.finditer(reasoning)]
    assume(len(ends) >= 2)
    i = draw(st.integers(0, len(ends) - 2))
    start = ends[i - 1] if i else 0
    clause = reasoning[start : ends[i]]
    if kind == "near-copy":  # the clause again with a counter
        copies = "".join(f"{clause} {n}" for n in range(draw(st.integers(1, 30))))
    else:
        copies = clause * draw(st.integers(1, 30))
    j = draw(st.integers(i, len(ends) - 1))
    return reasoning[: ends[j]] + copies + reasoning[ends[j] :]


def _total(reasoning: str, variant: str, answer: str = "Spain, Andalusia") -> float:
    response = f"<think>{reasoning}</think>\n<answer>{answer}</answer>"
    return score_response(response, "$spain,andalusia$", RewardConfig.from_variant(variant)).reward


@SETTINGS
@given(st.data())
def test_padding_never_raises_the_total(data):
    reasoning = data.draw(st.sampled_from(GENUINE))
    padded = data.draw(padding(reasoning))
    for variant in ("rule", "rule+length"):
        assert _total(padded, variant) <= _total(reasoning, variant) + 1e-12, (variant, padded[:200])


# --- clean beats messy ---------------------------------------------------------------------------

CLEAN = "<think>{r}</think>\n<answer>Spain, Andalusia</answer>"
MESSY = [
    "<think>{r}</think>\n<answer>Spain, Andalusia</answer>\nSecond pick: Murcia.",
    "<think>{r}</think>\n<answer>Spain, Andalusia</answer> So: Andalusia, Spain.",
    "<think>{r}</think>\nMy answer is Spain.\n<answer>Spain, Andalusia</answer>",
    "<think>{r}</think>\n<answer>Spain, Andalusia</answer><answer id='2'>Spain, Murcia</answer>",
    "<think>{r}</think>\n<answer>Spain, Andalusia</answer>< answer >Murcia</ answer >",
    "<think>{r}</think>\n<answer>Spain, Andalusia</answer><ANSWER/>",
    "<answer>Spain, Murcia</answer><think>{r}</think>\n<answer>Spain, Andalusia</answer>",
    "<think>{r}</think>\n<answer>Spain, Andalusia</answer>\n<answer>Spain, Andalusia</answer>",
    "<think>{r}</think>\n<answer>Spain, Andalusia, Murcia</answer>",
    "<think>{r}</think>\n<answer>Spain, Andalusia. Or Pоrtugal.</answer>",
    "<think>{r}</think>\n<answer>Spain, Andalusia, Mυrcia</answer>",
    "<think>{r}</think>\n<answer>Spain, Andalusia \u202eaicruM\u202c</answer>",
]


@SETTINGS
@given(st.sampled_from(GENUINE), st.sampled_from(MESSY), st.sampled_from(["rule", "rule+length"]))
def test_clean_beats_messy(reasoning, messy, variant):
    config = RewardConfig.from_variant(variant)
    clean = score_response(CLEAN.format(r=reasoning), "$spain,andalusia$", config).reward
    other = score_response(messy.format(r=reasoning), "$spain,andalusia$", config).reward
    assert clean > other, messy


# --- accuracy dominance --------------------------------------------------------------------------

# The variants a run gets without asking for SeekWorld's exact (gameable) length rule, that weigh
# accuracy. `distance` pays for coordinates alone and has no accuracy to dominate.
DEFAULT_VARIANTS = [v for v in VARIANTS.names() if "accuracy" in dict(VARIANTS.get(v).weights)]
DEFAULT_VARIANTS.remove("rule+seekworld-length")
ANSWERS = {
    True: ["Spain, Andalusia", "Andalusia, Spain", "Spain, Andalucía, 37.39, -5.98"],
    False: ["Spain, Murcia", "Portugal, Algarve", "Spain, Murcia, 37.39, -5.98", "Spain", "", "$"],
}
REASONINGS = st.one_of(
    st.sampled_from(GENUINE),
    st.sampled_from(GENUINE).map(lambda r: r * 3),
    st.just("x" * 3000),
    st.text(max_size=400),
)


@pytest.mark.parametrize("variant", DEFAULT_VARIANTS)
@SETTINGS
@given(
    wrong=st.tuples(st.sampled_from(ANSWERS[False]), REASONINGS, st.floats(0, 1)),
    right=st.tuples(st.sampled_from(ANSWERS[True]), REASONINGS, st.floats(0, 1)),
)
def test_accuracy_dominance(variant, wrong, right):
    config = RewardConfig.from_variant(variant)
    label = {"country": "Spain", "region": "Andalusia", "lat": 37.39, "lon": -5.98}
    scores = {}
    for ok, (answer, reasoning, judge) in ((False, wrong), (True, right)):
        response = f"<think>{reasoning}</think>\n<answer>{answer}</answer>"
        scores[ok] = score_response(response, label, config, external={"judge": judge})
    assume(scores[True].components.get("format") == scores[False].components.get("format"))
    assert scores[True].components["accuracy"] == 1.0
    assert scores[False].reward < scores[True].reward, (variant, wrong, right)


def test_dominance_covers_the_documented_variants():
    assert {"rule", "rule+length", "rule+judge", "rule+distance"} <= set(DEFAULT_VARIANTS)


# --- the canonical reading -----------------------------------------------------------------------

LETTERS = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=60)


@settings(max_examples=400, deadline=None)
@given(LETTERS)
def test_reading_is_idempotent_and_folds_only_to_ascii(text):
    once = canonical.read(text)
    assert canonical.read(once) == once
    folded = canonical.fold(once.casefold())
    assert canonical.fold(folded) == folded
    assert not canonical.ignorable_pattern()[1].search(once)


def test_fold_values_are_ascii_letters():
    table = canonical.fold_table()
    assert table and all(v.isascii() and v.isalpha() for v in table.values())
    assert not any(chr(k).isascii() for k in table)
