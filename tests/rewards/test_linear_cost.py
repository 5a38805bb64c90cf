"""Degenerate output costs linear time and bounded memory.

Timings are compared as ratios inside one run (16x more text may cost at most ~4x more per byte),
never against absolute numbers: a quadratic path costs 16x more per byte and fails.
"""

import time

import pytest

from seekworld.chat import TEMPLATES
from seekworld.geo import answer, label, normalize
from seekworld.geo.cache import byte_bounded_cache
from seekworld.rewards.length import count_reasoning_chars
from seekworld.rewards.scoring import score_response
from seekworld.rewards.variants import RewardConfig
from seekworld.service.wire import extract_response

CONFIG = RewardConfig.from_variant("rule+length")


def _seconds(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _per_byte(make, sizes=(1 << 10, 1 << 14, 1 << 18)) -> list[float]:
    costs = []
    for size in sizes:
        text = make(size)
        runs = max(1, (1 << 18) // size)  # the same number of bytes at every size
        costs.append(
            _seconds(
                lambda text=text, runs=runs: [
                    score_response(text, "$spain,andalusia$", CONFIG) for _ in range(runs)
                ]
            )
            / (runs * size)
        )
    return costs


def _words(n: int) -> str:
    # a collapsing policy repeating itself, in two scripts
    return ("Spain, Andalusia or perhaps 西班牙 安达卢西亚 " * (n // 30 + 1))[:n]


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda n: f"<think>x</think><answer>{_words(n)}</answer>", id="long-answer"),
        pytest.param(
            lambda n: f"<think>{_words(n)}</think><answer>Spain, Andalusia</answer>", id="long-reasoning"
        ),
        pytest.param(lambda n: "<answer>" * (n // 8), id="open-tags"),
        pytest.param(  # padding the length measure reads past: CJK runs, invisible characters, copies
            lambda n: (
                "<think>"
                + ("的" * 50 + "路牌是蓝底白字。\u200b\u200d" + "Step 1: the road. ")[: max(1, n)]
                * (n // 80 + 1)
                + "</think><answer>Spain, Andalusia</answer>"
            ),
            id="padded-reasoning",
        ),
        pytest.param(
            lambda n: "<think>x</think><answer>Spain, Andalusia</answer>" + "<answer id=2>" * (n // 13),
            id="variant-tags",
        ),
        pytest.param(
            lambda n: "<think>x</think><answer>Spain, Andalusia</answer>\u202e" + "lagutroP " * (n // 9),
            id="bidi-zone",
        ),
        pytest.param(lambda n: "<think>" + "</think><answer>x</answer>" * (n // 26), id="many-blocks"),
    ],
)
def test_scoring_cost_grows_linearly(make):
    small, mid, large = _per_byte(make)
    # linear: per-byte cost flat; allow 4x for noise and cache effects (quadratic would be 16x)
    assert large / mid < 4.0, (small, mid, large)
    assert mid / small < 4.0, (small, mid, large)


def test_end_token_strip_is_linear():
    qwen = TEMPLATES.get("qwen")

    def cost(n: int) -> float:
        query = "<|im_start|>assistant\nok" + "<|im_end|>\n" * n
        return _seconds(lambda: extract_response(query, template=qwen)) / n

    assert extract_response("<|im_start|>assistant\nok" + "<|im_end|> " * 1000, template=qwen) == "ok"
    assert cost(100_000) / cost(10_000) < 4.0


PART_CACHES = (answer._pieces, answer._country_of, answer._places_in)


def test_long_strings_are_never_cached():
    for fn in (normalize.normalize, answer._parse_cached, label._parse_string, *PART_CACHES):
        fn.cache_clear()
    big = "Spain Andalusia " * 20_000
    normalize.normalize(big)
    answer.parse_answer(big)
    score_response("<think>x</think><answer>a</answer>", "$spain," + "andalusia/" * 2000 + "$", CONFIG)
    for fn in (normalize.normalize, answer._parse_cached, label._parse_string, *PART_CACHES):
        assert fn.cache_info()["bytes"] < 64_000, fn  # the 320 KB inputs were not kept


def test_cache_is_bounded_by_bytes():
    @byte_bounded_cache(max_bytes=100_000, max_key_chars=1000)
    def echo(text: str) -> str:
        return text.upper()

    for i in range(10_000):
        echo(f"{i:05d}" * 100)  # 500 characters each, all distinct
    info = echo.cache_info()
    assert info["bytes"] <= 100_000 and 0 < info["entries"] < 100
    assert echo("a" * 2000) == "A" * 2000  # over max_key_chars: computed, not kept
    assert echo.cache_info()["entries"] == info["entries"]
    assert echo("00001" * 100) == "00001" * 100  # recomputed after eviction, still right


def test_a_full_cache_evicts_in_constant_time():
    """Every insert into a full cache evicts the oldest entry. Evicting with `next(iter(dict))`
    walks the holes that earlier deletions left at the front of the dict, so inserts got slower
    as the cache grew; per-insert cost must not depend on how many entries the budget holds."""

    def per_insert(entries: int) -> float:
        @byte_bounded_cache(max_bytes=entries * 300, max_key_chars=100)
        def echo(text: str) -> str:
            return text

        for i in range(entries * 2):  # full, and evicting
            echo(f"{i:012d}")
        n = 20_000
        start = time.perf_counter()
        for i in range(entries * 2, entries * 2 + n):
            echo(f"{i:012d}")
        assert entries / 2 < echo.cache_info()["entries"] < entries * 2  # full, not unbounded
        return (time.perf_counter() - start) / n

    small, large = min(per_insert(1_000) for _ in range(2)), min(per_insert(100_000) for _ in range(2))
    assert large / small < 3.0, (small, large)


@pytest.mark.parametrize("run", ["，", "\U0001f600"], ids=["fullwidth-comma", "emoji"])
def test_length_count_memory_is_bounded_on_long_runs(run):
    import tracemalloc

    text = run * (1 << 18)
    count_reasoning_chars(run)  # the character class is built once, outside the measure
    tracemalloc.start()
    try:
        n = count_reasoning_chars(text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert n == (0 if run == "，" else len(text))
    # one string per match for the whole text at once would be ~22 MB here
    assert peak < 12 << 20, peak


@pytest.mark.parametrize("unit", ["的", "x y ", "Step 1: the road is long. ", "\u200b", "aGVsbG8gd29ybGQ="])
def test_length_measure_memory_is_bounded_on_long_padding(unit):
    import tracemalloc

    from seekworld.rewards.length import count_new_letters

    text = unit * ((1 << 20) // len(unit))  # a million characters
    count_new_letters(unit * 50)  # the character classes are built once, outside the measure
    tracemalloc.start()
    try:
        count_new_letters(text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # only the first MAX_CHARS characters are read: a word list of the whole text would be ~60 MB
    assert peak < 8 << 20, peak


@pytest.mark.parametrize("tag", ["</think>", "<answer>"])
def test_format_and_think_memory_is_bounded_on_many_tags(tag):
    import tracemalloc

    from seekworld.rewards.format import compute_score, think_content

    text = "<think>x</think><answer>y</answer>" + tag * (1 << 17)  # 1 MB of tags
    tracemalloc.start()
    try:
        assert compute_score(text) == 0.0
        assert think_content(text) == (None if tag == "</think>" else "x")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # a piece per tag would be ~17 MB; the text itself is 1 MB
    assert peak < 4 << 20, peak


@pytest.mark.parametrize("tags", ["<answer>", "</answer>", "</think>"])
def test_answer_block_memory_is_bounded_on_many_tags(tags):
    import tracemalloc

    from seekworld.geo.answer import AnswerError, extract_answer

    text = "<think>x</think><answer>Spain, Murcia</answer>" + tags * (1 << 17)  # 1 MB of tags
    tracemalloc.start()
    try:
        try:
            found = extract_answer(text)
        except AnswerError as exc:
            found = str(exc)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    if tags == "<answer>":
        assert found.startswith(f"{(1 << 17) + 1} <answer> blocks")  # all counted, none kept
    elif tags == "</answer>":  # answer tags outside the block: a second answer
        assert found.startswith("second answer: the answer tag '</answer>'")
    else:  # the last </think> ends the reasoning: the answer before it is inside it
        assert found.startswith("the only <answer> is inside <think>")
    # a match object kept per tag was ~115 MB here
    assert peak < 4 << 20, peak


def test_length_count_matches_unicode_categories():
    import string
    import unicodedata

    def by_category(text: str) -> int:
        return sum(
            1
            for ch in text
            if not ch.isspace()
            and ch not in string.punctuation
            and not unicodedata.category(ch).startswith("P")
        )

    samples = [
        "The road, the signs — and 广东话。 ¿Qué? «x» ‘a’ ... $ ^ + = | ~ ` < >",
        "مرحبا، كيف الحال؟ ١٢٣",
        "Ελλάδα· Κρήτη; ข้อความภาษาไทย ฯ ๆ",
        "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𐄀 𖩮 😀",  # astral letters, punctuation and symbols
        "",
    ]
    for text in samples:
        assert count_reasoning_chars(text) == by_category(text), text
