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


def test_length_counts_reasoning_characters_only():
    # 10 letters, spaces and punctuation (ASCII and CJK) do not count.
    assert length.count_reasoning_chars("abc de, f.g!h ij") == 10
    assert length.count_reasoning_chars("我看到，路牌。“汉字”") == 7
    assert length.compute_score("<think>" + "x" * 250 + "</think><answer>a</answer>") == pytest.approx(0.25)


def test_length_is_capped_and_padding_earns_nothing():
    assert length.compute_score("<think>" + "y" * 5000 + "</think><answer>a</answer>") == 1.0
    assert length.compute_score("<think>" + ". , ! 。，" * 500 + "</think><answer>a</answer>") == 0.0


def test_length_needs_one_think_block():
    assert length.compute_score("no tags " * 100) == 0.0
    assert length.compute_score("<think>aaa</think><think>bbb</think>") == 0.0


def test_length_knobs():
    response = "<think>" + "z" * 100 + "</think><answer>a</answer>"
    assert length.compute_score(response, per_char=0.01) == pytest.approx(1.0)
    assert length.compute_score(response, per_char=0.01, cap=0.5) == 0.5
