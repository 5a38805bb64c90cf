"""The prompt each sample gets: a system message and a user message `"<image>" + question`.

`--prompt-template FILE` replaces the defaults exactly:

- a `.json` file: an object with `system` and/or `question`. A key left out keeps the default;
  `"system": null` (or `""`) sends no system message.
- any other file: its whole text (trailing newline removed) is the question; the default system
  message stays.

In the question, `{question}` is replaced by the sample's own question (the text part of an lmm-r1
message, or a `question` column), so `{"system": null, "question": "{question}"}` reproduces an
lmm-r1 file's prompts as they are. Nothing else is substituted: braces and `$` are literal.
`<image>` marks where the image goes; a question without it gets one `<image>` per image in front.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from seekworld.errors import SeekworldError

__all__ = ["DEFAULT_QUESTION", "DEFAULT_SYSTEM", "IMAGE_TAG", "PromptTemplate", "TemplateError"]

IMAGE_TAG = "<image>"  # what upstream's PromptDataset splits string contents on
OWN_QUESTION = "{question}"

DEFAULT_SYSTEM = (
    "You are an expert in photo geolocation. Work out where a photo was taken from what it shows: "
    "the script and language of signs, licence plates, road markings, the side of the road traffic "
    "drives on, architecture, vegetation, terrain and climate. First reason step by step inside "
    "<think></think>. Then give your final answer inside <answer></answer> in the form "
    "$country,administrative_area_level_1$: the country and its first-level administrative region "
    "(state, province, prefecture), for example <answer>$Japan,Osaka$</answer>. Give exactly one "
    "country and one region."
)
DEFAULT_QUESTION = "In which country and first-level administrative region was this photo taken?"


class TemplateError(SeekworldError, ValueError):
    """A prompt template file that cannot be used."""


@dataclass(frozen=True)
class PromptTemplate:
    system: str | None = DEFAULT_SYSTEM
    question: str = DEFAULT_QUESTION

    @classmethod
    def load(cls, path: str | Path) -> PromptTemplate:
        """Read a template file (see the module docstring). Raises TemplateError."""
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise TemplateError(f"cannot read prompt template {p}: {exc.strerror or exc}") from None
        if p.suffix.lower() != ".json":
            question = text[:-1] if text.endswith("\n") else text
            if not question.strip():
                raise TemplateError(f"prompt template {p} is empty")
            return cls(question=question)
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise TemplateError(f"prompt template {p} is not valid JSON: {exc}") from None
        if not isinstance(obj, dict):
            raise TemplateError(f"prompt template {p} must be a JSON object with 'system'/'question'")
        unknown = set(obj) - {"system", "question"}
        if unknown:
            raise TemplateError(
                f"prompt template {p} has unknown keys {sorted(unknown)}; use 'system' and 'question'"
            )
        system = obj.get("system", DEFAULT_SYSTEM)
        question = obj.get("question", DEFAULT_QUESTION)
        if system is not None and not isinstance(system, str):
            raise TemplateError("'system' must be a string or null")
        if not isinstance(question, str) or not question.strip():
            raise TemplateError("'question' must be a non-empty string")
        return cls(system=system or None, question=question)

    @property
    def uses_own_question(self) -> bool:
        return OWN_QUESTION in self.question

    def messages(self, n_images: int, own_question: str | None = None) -> list[dict[str, str]]:
        """Chat messages for one sample. `own_question` fills `{question}` (default question if None)."""
        question = self.question
        if self.uses_own_question:
            question = question.replace(OWN_QUESTION, own_question if own_question else DEFAULT_QUESTION)
        if IMAGE_TAG not in question:
            question = IMAGE_TAG * n_images + question
        out = []
        if self.system:
            out.append({"role": "system", "content": self.system})
        out.append({"role": "user", "content": question})
        return out


def count_image_tags(messages: list[dict[str, str]]) -> int:
    """`<image>` tags upstream will turn into image slots (it splits every string content on them)."""
    return sum(m["content"].count(IMAGE_TAG) for m in messages)
