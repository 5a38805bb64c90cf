"""Format and length rewards."""

import pytest

from seekworld.rewards import format, length


@pytest.mark.parametrize(
    "response, expected",
    [
        ("<think>signs in Thai</think><answer>Thailand, Bangkok</answer>", 1.0),
        ("  <think>a</think>\n\n<answer>b</answer>\n", 1.0),  # whitespace around is fine
        ("<answer>b</answer>", 0.0),  # no think
        ("<think>a</think>", 0.0),  # no answer
        ("<answer>b</answer><think>a</think>", 0.0),  # wrong order
        ("<think>a</think><answer>b</answer> trailing", 0.0),  # text after the answer
        ("intro <think>a</think><answer>b</answer>", 0.0),  # text before the think
        ("<think>a</think><answer>b</answer><answer>c</answer>", 0.0),  # two answers
        ("<think>a<think>b</think><answer>c</answer>", 0.0),  # nested think
        ("<think> </think><answer>b</answer>", 0.0),  # empty reasoning
        ("<think>a</think><answer> </answer>", 0.0),  # empty answer
        ("<think>Roads.</think><answer>$</answer>", 0.0),  # no place in it: tags are not an answer
        ("<think>Roads.</think><answer>$ , . ;</answer>", 0.0),  # only punctuation
        ("<think>Roads.</think><answer>\u200b\u200d</answer>", 0.0),  # only invisible characters
        ("<think>Roads.</think><answer>30.66, 104.06</answer>", 1.0),  # coordinates are an answer
        ("<think>Roads.</think><answer>广东</answer>", 1.0),
        ("<think>a</think>x<answer>b</answer>", 0.0),  # text between blocks
        ("<think>a</think><answer>b</answer></answer>", 0.0),  # a second close
        ("</think><think>a</think><answer>b</answer>", 0.0),  # a close before the open
        ("<THINK>a</THINK><answer>b</answer>", 0.0),  # the format asks for these exact tags
        ("<think>\u3000</think><answer>b</answer>", 0.0),  # ideographic space is whitespace
        ("<think>a</think>\u3000<answer>b</answer>\u2003", 1.0),  # ... around the blocks too
    ],
)
def test_format(response, expected):
    assert format.compute_score(response) == expected


@pytest.mark.parametrize(
    "response, expected",
    [
        ("<think>a b</think><answer>c</answer>", "a b"),
        ("<think></think>", ""),
        ("x</think><think>y", None),  # closed before it opens
        ("<think>a<think>b</think>", None),  # two opens
        ("<think>a</think>b</think>", None),  # two closes
        ("no reasoning", None),
    ],
)
def test_think_content(response, expected):
    assert format.think_content(response) == expected


def test_seekworld_length_counts_reasoning_characters():
    # SeekWorld's exact rule (rule+seekworld-length): 10 letters; spaces and punctuation (ASCII
    # and CJK) do not count, anything else does, padding included.
    assert length.count_reasoning_chars("abc de, f.g!h ij") == 10
    assert length.count_reasoning_chars("我看到，路牌。“汉字”") == 7
    assert length.seekworld_score("<think>" + "x" * 250 + "</think><answer>a</answer>") == pytest.approx(0.25)
    assert length.seekworld_score("<think>" + "y" * 5000 + "</think><answer>a</answer>") == 1.0
    assert length.seekworld_score("<think>" + ". , ! 。，" * 500 + "</think><answer>a</answer>") == 0.0
    assert length.seekworld_score("no tags " * 100) == 0.0


GENUINE = (
    "The road has yellow centre lines and the cars drive on the right. The vegetation is dry scrub "
    "with a few cork oaks, and the houses are whitewashed with terracotta roofs."
)


def test_length_pays_new_letters():
    letters = sum(ch.isalpha() for ch in GENUINE)
    assert length.count_new_letters(GENUINE) >= 0.9 * letters
    assert length.compute_score(f"<think>{GENUINE}</think><answer>a</answer>") == pytest.approx(
        length.PER_LETTER * length.count_new_letters(GENUINE)
    )


@pytest.mark.parametrize(
    "padding",
    [
        "x" * 2000,  # one character repeated
        "\u200d" * 1500,  # invisible joiners
        "的" * 1500,  # a CJK character repeated
        "😀🌍" * 500 + "─│┌┐" * 200 + "→←" * 300 + "\u2800" * 300 + "\u3164" * 300,  # non-text
        "0123456789" * 200,  # digits
        " \u0301\u0302" * 400,  # marks on nothing
        "aGVsbG8gd29ybGQgdGhpcyBpcyBwYWRkaW5nIGZvciB0aGUgcmV3YXJk" * 20,  # base64
    ],
)
def test_padding_alone_earns_nothing(padding):
    assert length.count_new_letters(padding) <= 1


WORDS = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima".split()


@pytest.mark.parametrize(
    "padding",
    [
        " " + GENUINE * 20,  # the same sentences again
        "\n\n" + (GENUINE + "\n\n") * 5,  # the same paragraph again
        " " + " ".join(f"Step {i}: the road is long and straight." for i in range(200)),  # a counter
        " " + " ".join(f"The road near {w} is long and straight." for w in WORDS),  # one word changed
        " " + " ".join(f"Maybe {w} here." for w in WORDS),
        "\u200b" * 900,
    ],
)
def test_padding_after_genuine_reasoning_adds_little(padding):
    # "little": the first copy of a new template sentence is new text; nothing after it is
    assert length.count_new_letters(GENUINE + padding) - length.count_new_letters(GENUINE) <= 40


def test_length_needs_one_think_block():
    assert length.compute_score("no tags " * 100) == 0.0
    assert length.compute_score("<think>aaa</think><think>bbb</think>") == 0.0


def test_length_knobs():
    response = f"<think>{GENUINE}</think><answer>a</answer>"
    n = length.count_new_letters(GENUINE)
    assert length.compute_score(response, per_char=1 / n) == pytest.approx(1.0)
    assert length.compute_score(response, per_char=1 / n, cap=0.5) == 0.5
