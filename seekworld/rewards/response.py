"""Cut the policy's response out of what a trainer sends back.

Upstream OpenRLHF sends `query` = decode(prompt ids + response ids, skip_special_tokens=False): the
whole chat-templated prompt (image pads included) followed by the response, often ending in an
end-of-turn token. The response is what follows the LAST assistant marker.

    extract_response("<|im_start|>user\\nWhere?<|im_end|>\\n<|im_start|>assistant\\n<think>..<|im_end|>")
    == "<think>.."

Templates (`seekworld.chat`) are named (`qwen` by default) or built from a custom marker. One
function, used by the reward server, the reward file, the agent and eval.
"""

from __future__ import annotations

# Templates live in seekworld.chat (one module owns them); re-exported for existing callers.
from seekworld.chat import QWEN, TEMPLATES, ChatTemplate, content_end, resolve_template

__all__ = ["QWEN", "TEMPLATES", "ChatTemplate", "extract_response", "resolve_template"]


def extract_response(query: str, prompt: str | None = None, template: ChatTemplate | None = None) -> str:
    """The policy's response inside `query`.

    After the last assistant marker when there is one; otherwise after `prompt` when the query
    starts with it; otherwise the whole query. Trailing end-of-turn tokens and whitespace go.
    """
    template = template or QWEN
    cut = -1
    for marker in template.assistant_markers:
        at = query.rfind(marker)
        if at >= 0 and at + len(marker) > cut:
            cut = at + len(marker)
    if cut < 0:
        cut = len(prompt) if prompt and query.startswith(prompt) else 0
    # One slice of the query: cutting the response out and then its end would copy it twice.
    return query[cut : content_end(query, template.end_tokens, cut)]
