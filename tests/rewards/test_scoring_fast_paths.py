"""The scoring core's fast paths give exactly what their plain definitions give.

Each fast path (a C-level search instead of a scan, a shortcut for the usual shape) is checked
against a slow reference on random text built from the pieces that matter to it."""

import random
import string
import sys
import unicodedata

import pytest
from data.reasoning import REASONING

from seekworld.chat import QWEN, content_end, strip_end_tokens
from seekworld.geo import mentions as mentions_mod
from seekworld.geo import zone
from seekworld.geo.gazetteer import load_gazetteer
from seekworld.rewards import length
from seekworld.rewards.scoring import score_response
from seekworld.rewards.variants import RewardConfig
from seekworld.text import canonical

# --- length: BMP class plus a constant-time test for characters past U+FFFF -------------------

_POOL = (
    list(string.printable)
    + list("广东话。，「」、·—–…¿¡«»‘’“”؟،٪ฯๆ·;Κρήτη ăşţ\u3000\u00a0\u2003")
    + ["😀", "𝔘", "𐄀", "𖩮", "\U0001e95e", "\U00011047", "𝐀"]  # astral letters, symbols, punctuation
)


def _by_category(text: str) -> int:
    return sum(
        1
        for ch in text
        if not ch.isspace() and ch not in string.punctuation and not unicodedata.category(ch).startswith("P")
    )


@pytest.mark.parametrize("seed", range(3))
def test_length_count_matches_the_definition_on_random_text(seed):
    rng = random.Random(seed)
    for _ in range(2000):
        text = "".join(rng.choice(_POOL) for _ in range(rng.randint(0, 40)))
        assert length.count_reasoning_chars(text) == _by_category(text), repr(text)


class _Str(str):
    pass


def test_astral_test_never_misses_a_character_past_the_basic_plane():
    import ctypes

    cached = "x\U0001f600y" * 3
    ctypes.pythonapi.PyUnicode_AsUTF8.restype = ctypes.c_char_p
    ctypes.pythonapi.PyUnicode_AsUTF8(ctypes.py_object(cached))  # now holds a UTF-8 copy too
    for text in ("😀", "a😀", "广东😀", "😀" * 1000, _Str("广😀"), cached, "é" * 50 + "𝔘"):
        assert canonical.may_hold_astral(text), repr(text)
    # a "no" is what makes it fast: plain BMP text gets it
    for text in ("广东话", "é" * 50, "ab", "Κρήτη " * 100):
        assert not canonical.may_hold_astral(text), repr(text)


def test_astral_test_falls_back_to_a_search_without_getsizeof(monkeypatch):
    def no_size(obj):
        raise TypeError("no getsizeof here")

    monkeypatch.setattr(sys, "getsizeof", no_size)
    test = canonical._make_astral_test()
    assert test("a😀") and not test("广东")


# --- end tokens: one slice, one call for all tokens ------------------------------------------


@pytest.mark.parametrize(
    "text, tokens, expected",
    [
        ("a<|im_end|>\n<|endoftext|> ", QWEN.end_tokens, "a"),
        ("a<|im_end|><|im_end|>", ["<|im_end|>"], "a"),  # a list, not a tuple
        ("a<|im_end|> ", ("", "<|im_end|>"), "a"),  # an empty token ends nothing
        ("a<eos>", ("",), "a<eos>"),
        ("  ", QWEN.end_tokens, ""),
        ("<|im_end|>", QWEN.end_tokens, ""),
    ],
)
def test_strip_end_tokens_shapes(text, tokens, expected):
    assert strip_end_tokens(text, tokens) == expected


def test_content_end_never_goes_before_start():
    query = "prompt<|im_start|>assistant\n  <|im_end|> "
    start = query.index("\n") + 1
    assert content_end(query, QWEN.end_tokens, start) == start
    assert content_end("ab<|im_end|>", QWEN.end_tokens, 2) == 2  # the token after start goes
    assert content_end("ab<|im_end|>", QWEN.end_tokens, 3) == 12  # one starting before start stays


# --- the answer block: one fullmatch for the usual tail ----------------------------------------

_TAIL = ["<answer>", "</answer>", "<Answer >", "</ANSWER>", "<i>", "</i>", "<", ">", "x", " ", "\n", "Spain"]


@pytest.mark.parametrize("seed", range(3))
def test_one_block_shortcut_agrees_with_the_tag_scan(seed):
    rng = random.Random(seed)
    for _ in range(3000):
        tail = "".join(rng.choice(_TAIL) for _ in range(rng.randint(0, 9)))
        block = zone._ONE_BLOCK.fullmatch(tail)
        if block is None:
            continue
        assert block.span(1) == zone._find_block(tail, 0), repr(tail)


# --- prose: windows of unspaced words are skipped unless a key starts there --------------------


def _mentions_unfiltered(gaz, country_id, text):
    regions, stripped = gaz.region_keys.get(country_id, {}), gaz.region_keys_stripped.get(country_id, {})
    tables = (regions, stripped, gaz.country_keys)
    found = set()
    for word in mentions_mod.normalize(text).split():
        if not word.isascii() and mentions_mod._unspaced(word):
            for a in range(len(word)):
                for b in range(a + 2, min(a + mentions_mod._MAX_NAME_CHARS, len(word)) + 1):
                    for table in tables:
                        hit = table.get(word[a:b])
                        if hit is not None:
                            found.add(gaz.territories.get(hit, hit))
    return found


@pytest.mark.parametrize(
    "country, text",
    [
        ("CN", "路牌上写着去广东省和广西的方向"),
        ("CN", "看起来像四川或者重庆附近的山区"),
        ("KR", "서울특별시근처의경기도풍경"),
        ("JP", "大阪府と京都府の間あたり"),
        ("TH", "ป้ายบอกทางไปเชียงใหม่และลำปาง"),
    ],
)
def test_prefix_filter_finds_every_name_the_full_window_scan_finds(country, text):
    gaz = load_gazetteer()
    expected = _mentions_unfiltered(gaz, country, text)
    assert expected  # the sentence names places
    assert expected <= {place for ids in mentions_mod.mentions(gaz, country, text) for place in ids}


# --- a component's value as the config gives it --------------------------------------------------------


def test_a_component_returning_an_int_is_scored():
    # an integer cap from a config file makes min() return an int once the reasoning is long
    config = RewardConfig.from_variant("rule+length", length_cap=1)
    reasoning = " ".join(text for _, text in REASONING)  # genuine reasoning, past the cap
    response = f"<think>{reasoning}</think><answer>Spain, Galicia</answer>"
    score = score_response(response, "$spain,galicia$", config)
    assert score.components["length"] == 1 and score.reward == pytest.approx(2.5)
