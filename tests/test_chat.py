"""Chat templates (seekworld/chat.py) against the real Qwen2.5-VL chat template."""

from __future__ import annotations

from seekworld.chat import QWEN, TEMPLATES, resolve_template, strip_end_tokens
from seekworld.service.wire import extract_response


def test_qwen_render_is_the_processors_chat_template(tiny_qwen):
    processor = tiny_qwen.processor
    for messages in (
        [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Where?"}]}],
        [
            {"role": "system", "content": "You are a geolocation expert."},
            {"role": "user", "content": [{"type": "text", "text": "Where? "}, {"type": "image"}]},
        ],
    ):
        expected = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        if messages[0]["role"] == "system":
            assert QWEN.render(messages) == expected
        else:  # the processor adds its default system turn first; render adds none
            assert expected.startswith("<|im_start|>system\n") and expected.endswith(QWEN.render(messages))


def test_a_rendered_prompt_gives_back_the_response():
    response = "<think>Spanish signs.</think><answer>Spain, Galicia</answer>"
    query = QWEN.render("<image>Where?") + response + QWEN.turn_end + "<|endoftext|>"
    assert extract_response(query, template=TEMPLATES.get("chatml")) == response


def test_strip_end_tokens_and_custom_templates():
    assert strip_end_tokens("a<|im_end|>\n<|endoftext|> ", QWEN.end_tokens) == "a"
    assert strip_end_tokens("a<|im_end|>", ()) == "a<|im_end|>"
    custom = resolve_template("qwen", end_tokens="<eos>")
    assert custom.assistant_markers == QWEN.assistant_markers and custom.end_tokens == ("<eos>",)
