"""Cutting the policy's response out of upstream's decoded query."""

import pytest

from seekworld.chat import TEMPLATES, ChatTemplate, resolve_template
from seekworld.service.wire import extract_response

QWEN_PROMPT = (
    "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\n"
    "<|vision_start|><|image_pad|><|image_pad|><|vision_end|>Where?<|im_end|>\n<|im_start|>assistant\n"
)
RESPONSE = "<think>Red soil.</think><answer>$China,Sichuan$</answer>"


@pytest.mark.parametrize(
    "query,expected",
    [
        # upstream's usual query: prompt + response + end-of-turn token
        (QWEN_PROMPT + RESPONSE + "<|im_end|>", RESPONSE),
        # end-of-turn and padding tokens, repeated, with whitespace between them
        (QWEN_PROMPT + RESPONSE + "<|im_end|>\n<|endoftext|><|endoftext|>", RESPONSE),
        # truncated response: no end token
        (QWEN_PROMPT + "<think>Red so", "<think>Red so"),
        # few-shot prompt: an earlier assistant turn; the LAST marker wins
        (QWEN_PROMPT + "old<|im_end|>\n<|im_start|>user\nagain<|im_end|>\n<|im_start|>assistant\n" + RESPONSE,
         RESPONSE),
        # an end token in the middle stays (only trailing ones are stripped)
        (QWEN_PROMPT + "a<|im_end|>b", "a<|im_end|>b"),
        # empty response
        (QWEN_PROMPT + "<|im_end|>", ""),
    ],
)  # fmt: skip
def test_qwen_queries(query, expected):
    assert extract_response(query) == expected


def test_no_marker_falls_back_to_prompt_prefix_then_whole_query():
    assert extract_response("PROMPT" + RESPONSE, prompt="PROMPT") == RESPONSE
    assert extract_response(RESPONSE + "<|im_end|>", prompt="other") == RESPONSE


def test_policy_cannot_fake_a_marker_for_an_earlier_cut():
    # A marker inside the response moves the cut later, never earlier: scoring sees less, not more.
    query = QWEN_PROMPT + "junk <|im_start|>assistant\n" + RESPONSE
    assert extract_response(query) == RESPONSE


@pytest.mark.parametrize(
    "template,query,expected",
    [
        ("llama3", "<|start_header_id|>assistant<|end_header_id|>\n\nhi<|eot_id|>", "hi"),
        ("gemma", "<start_of_turn>user\nq<end_of_turn>\n<start_of_turn>model\nhi<end_of_turn>", "hi"),
        ("chatml", "<|im_start|>assistant\nhi<|im_end|>", "hi"),
        ("none", "  <think>x</think>  ", "  <think>x</think>"),
    ],
)
def test_named_templates(template, query, expected):
    assert extract_response(query, template=TEMPLATES.get(template)) == expected


def test_custom_marker_with_escaped_newline_and_end_tokens():
    template = resolve_template("qwen", assistant_marker=r"### Assistant:\n", end_tokens="</s>,<eos>")
    assert template == ChatTemplate("custom", ("### Assistant:\n",), ("</s>", "<eos>"))
    assert extract_response("### User:\nq\n### Assistant:\nhi</s><eos>", template=template) == "hi"


def test_unknown_template_suggests_a_name():
    with pytest.raises(KeyError, match="Did you mean: qwen"):
        resolve_template("qwen2")
