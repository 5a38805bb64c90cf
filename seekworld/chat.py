"""Chat templates: where a turn starts and ends, which tokens end a generation, how an image shows.

The one place that knows the text of chat templates. Users: the reward (cutting the response out of
the query a trainer sends, `seekworld.service.wire`), the zoom agent (the text around a tool
observation, `seekworld.zoom.protocol`) and the training preflight (rendering a probe prompt).

    TEMPLATES.get("qwen").render([{"role": "user", "content": "<image>Where?"}])
    == "<|im_start|>user\\n<|vision_start|><|image_pad|><|vision_end|>Where?<|im_end|>\\n"
       "<|im_start|>assistant\\n"

Qwen2/2.5/3 and their VL models share the `qwen` (ChatML) template. Templates other than Qwen's
are known well enough to cut responses (assistant markers and end tokens), not to render turns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from seekworld.registry import Registry

__all__ = ["QWEN", "TEMPLATES", "ChatTemplate", "content_end", "resolve_template", "strip_end_tokens"]


@dataclass(frozen=True)
class ChatTemplate:
    """Where an assistant turn starts and which tokens may end it (and, for Qwen, how turns render)."""

    name: str
    assistant_markers: tuple[str, ...]  # any of them opens an assistant turn; the last one wins
    end_tokens: tuple[str, ...] = ()  # stripped from the end of a response (repeatedly)
    turn_open: str = ""  # a turn's opening text; "{role}" is the role ("" = cannot render)
    turn_end: str = ""  # closes a turn
    turn_sep: str = ""  # between a turn's end and the next turn's opening
    image: str = ""  # what one image becomes in the text

    @property
    def user_open(self) -> str:
        """Text between one turn's end and a user turn's content."""
        return self.turn_sep + self.turn_open.format(role="user")

    @property
    def assistant_open(self) -> str:
        """Text between one turn's end and an assistant turn's content."""
        return self.turn_sep + self.turn_open.format(role="assistant")

    def render(self, messages: str | Sequence[Any], add_generation_prompt: bool = True) -> str:
        """Chat messages as the template renders them; `<image>` (or an image part) -> `image`.

        No default system turn is added (Qwen2.5-VL's own template adds one when there is none).
        """
        if not self.turn_open:
            raise ValueError(f"chat template {self.name!r} cannot render turns")
        if isinstance(messages, str):
            messages = [{"role": "user", "content": messages}]
        parts = []
        for msg in messages:
            content = msg["content"]
            if isinstance(content, list):
                content = "".join(
                    "<image>" if p.get("type") == "image" else p.get("text", "") for p in content
                )
            content = content.replace("<image>", self.image)
            parts.append(self.turn_open.format(role=msg["role"]) + content + self.turn_end + self.turn_sep)
        if add_generation_prompt:
            parts.append(self.turn_open.format(role="assistant"))
        return "".join(parts)


QWEN = ChatTemplate(
    "qwen",
    ("<|im_start|>assistant\n",),
    ("<|im_end|>", "<|endoftext|>"),
    turn_open="<|im_start|>{role}\n",
    turn_end="<|im_end|>",
    turn_sep="\n",
    image="<|vision_start|><|image_pad|><|vision_end|>",
)

TEMPLATES: Registry[ChatTemplate] = Registry("chat template")
for _template in (
    QWEN,
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
TEMPLATES.register("chatml", QWEN)


def resolve_template(
    name: str = "qwen", assistant_marker: str | None = None, end_tokens: str | None = None
) -> ChatTemplate:
    """A named template, or a custom one when `assistant_marker` or `end_tokens` is given.

    Flags and environment variables cannot hold a newline easily, so a literal backslash-n in
    `assistant_marker` means a newline. `end_tokens` is a comma-separated list.
    """
    base = TEMPLATES.get(name)
    if assistant_marker is None and end_tokens is None:
        return base
    markers = (assistant_marker.replace("\\n", "\n"),) if assistant_marker else base.assistant_markers
    ends = tuple(t for t in (end_tokens or "").split(",") if t) if end_tokens is not None else base.end_tokens
    return ChatTemplate("custom", markers, ends)


def strip_end_tokens(text: str, end_tokens: Sequence[str]) -> str:
    """`text` without trailing end-of-turn tokens and whitespace (stripped repeatedly)."""
    end = content_end(text, end_tokens)
    return text if end == len(text) else text[:end]


def content_end(text: str, end_tokens: Sequence[str], start: int = 0) -> int:
    """Where `text[start:]` ends once trailing end-of-turn tokens and whitespace are stripped.

    One pass from the end without slicing: 100k repeated tokens stay linear, not quadratic, and a
    caller cuts its text once."""
    end = max(start, len(text.rstrip())) if text[-1:].isspace() else len(text)
    # A tuple of non-empty tokens ("" would end every text) lets one call test them all.
    if end_tokens.__class__ is not tuple or "" in end_tokens:
        end_tokens = tuple(t for t in end_tokens if t)
    while end_tokens and text.endswith(end_tokens, start, end):  # type: ignore[arg-type]
        for token in end_tokens:
            if text.endswith(token, start, end):
                end -= len(token)
                break
        while end > start and text[end - 1].isspace():
            end -= 1
    return end
