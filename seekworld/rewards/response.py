"""Cut the policy's response out of what a trainer sends back.

Upstream OpenRLHF sends `query` = decode(prompt ids + response ids, skip_special_tokens=False): the
whole chat-templated prompt (image pads included) followed by the response, often ending in an
end-of-turn token. The response is what follows the LAST assistant marker.

    extract_response("<|im_start|>user\\nWhere?<|im_end|>\\n<|im_start|>assistant\\n<think>..<|im_end|>")
    == "<think>.."

Templates are named (`qwen` by default; Qwen2/2.5/3 and their VL models share it) or built from a
custom marker. One function, used by the reward server, the reward file, the agent and eval.
"""

from __future__ import annotations

from dataclasses import dataclass

from seekworld.registry import Registry

__all__ = ["TEMPLATES", "ChatTemplate", "extract_response", "resolve_template"]


@dataclass(frozen=True)
class ChatTemplate:
    """Where an assistant turn starts and which tokens may end it."""

    name: str
    assistant_markers: tuple[str, ...]  # any of them opens an assistant turn; the last one wins
    end_tokens: tuple[str, ...] = ()  # stripped from the end of the response (repeatedly)


TEMPLATES: Registry[ChatTemplate] = Registry("chat template")
for _template in (
    ChatTemplate("qwen", ("<|im_start|>assistant\n",), ("<|im_end|>", "<|endoftext|>")),
    ChatTemplate(
        "llama3",
        (
            "<|start_header_id|>assistant<|end_header_id|>\n\n",
            "<|start_header_id|>assistant<|end_header_id|>",
        ),
        ("<|eot_id|>", "<|end_of_text|>"),
    ),
    ChatTemplate("gemma", ("<start_of_turn>model\n",), ("<end_of_turn>", "<eos>")),
    # The trainer sends the bare response (e.g. our own eval): take the query as it is.
    ChatTemplate("none", (), ()),
):
    TEMPLATES.register(_template.name, _template)
TEMPLATES.register("chatml", TEMPLATES.get("qwen"))


def resolve_template(
    name: str = "qwen", assistant_marker: str | None = None, end_tokens: str | None = None
) -> ChatTemplate:
    """A named template, or a custom one when `assistant_marker` is given.

    Flags and environment variables cannot hold a newline easily, so a literal backslash-n in
    `assistant_marker` means a newline. `end_tokens` is a comma-separated list.
    """
    base = TEMPLATES.get(name)
    if assistant_marker is None and end_tokens is None:
        return base
    markers = (assistant_marker.replace("\\n", "\n"),) if assistant_marker else base.assistant_markers
    ends = tuple(t for t in (end_tokens or "").split(",") if t) if end_tokens is not None else base.end_tokens
    return ChatTemplate("custom", markers, ends)


def extract_response(query: str, prompt: str | None = None, template: ChatTemplate | None = None) -> str:
    """The policy's response inside `query`.

    After the last assistant marker when there is one; otherwise after `prompt` when the query
    starts with it; otherwise the whole query. Trailing end-of-turn tokens and whitespace go.
    """
    template = template or TEMPLATES.get("qwen")
    cut = -1
    for marker in template.assistant_markers:
        at = query.rfind(marker)
        if at >= 0 and at + len(marker) > cut:
            cut = at + len(marker)
    if cut >= 0:
        response = query[cut:]
    elif prompt and query.startswith(prompt):
        response = query[len(prompt) :]
    else:
        response = query
    return _strip_end(response, template.end_tokens)


def _strip_end(text: str, end_tokens: tuple[str, ...]) -> str:
    """Drop trailing whitespace and end tokens, any number of them, in one pass from the end
    (slicing once at the end keeps 100k repeated tokens linear, not quadratic)."""
    tokens = [t for t in end_tokens if t]
    end = len(text.rstrip())
    changed = True
    while changed and tokens:
        changed = False
        for token in tokens:
            if text.endswith(token, 0, end):
                end -= len(token)
                while end and text[end - 1].isspace():
                    end -= 1
                changed = True
    return text[:end]
