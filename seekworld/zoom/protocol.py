"""The zoom tool protocol: what the model writes, what the environment answers, and how a whole
episode is laid out as text. One module for the RL agent, the SFT data and trace collection, so the
three cannot drift apart.

The model's turns
-----------------
Every assistant turn is one `<think>…</think>` block followed by exactly one action:

    <think>The sign on the left is small.</think>
    <zoom>[0.1, 0.25, 0.4, 0.5]</zoom>                 (a zoom turn: generation stops at `</zoom>`)

    <think>The sign reads "Calle", Spanish.</think>
    <answer>$Spain,Galicia$</answer>                   (the final turn)

A box is `[x1, y1, x2, y2]`: fractions of the ORIGINAL image's width and height, with
0 ≤ x1 < x2 ≤ 1 and 0 ≤ y1 < y2 ≤ 1. Every crop is taken from the original image, never from an
earlier crop. A turn is a zoom turn when it ends with `</zoom>`; any other turn ends the episode.

The environment's answers
-------------------------
After a zoom turn the environment closes the assistant turn and opens a user turn holding the
crop (one image) and a short observation text, then opens the next assistant turn (Qwen markers):

    <|im_end|>\\n<|im_start|>user\\n<|vision_start|><|image_pad|><|vision_end|>
    Zoomed in on [0.1, 0.25, 0.4, 0.5] (crop 1 of 4).<|im_end|>\\n<|im_start|>assistant\\n

A malformed, empty, inverted or out-of-range box (or one under `min_box_px` pixels) gets an
error observation and no image; a zoom past `max_crops` gets "answer now"; so does a zoom whose
image would not fit in the remaining token budget. The episode ends at the first non-zoom turn,
or after `max_turns` turns (default `2 × max_crops + 2`: room for some failed zooms).

Format (the multi-turn format reward, see `seekworld.zoom.reward`): 1 when every turn but the
last is a well-shaped zoom turn whose zoom was carried out (or refused only for lack of token
budget), and the last turn is exactly the single-turn format (`<think>…</think><answer>…</answer>`).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

from seekworld import chat
from seekworld.chat import QWEN, ChatTemplate
from seekworld.errors import SeekworldError, UsageError

__all__ = [
    "STOP",
    "Box",
    "BoxError",
    "Refusal",
    "Segment",
    "Step",
    "TranscriptError",
    "ZoomConfig",
    "ZoomEpisode",
    "answer_turn",
    "chat_parts",
    "feedback_text",
    "format_box",
    "is_zoom_turn",
    "parse_box",
    "render_transcript",
    "system_prompt",
    "transcript_messages",
    "transcript_segments",
    "zoom_content",
    "zoom_turn",
    "zoom_turn_ok",
]

ZOOM_OPEN, ZOOM_CLOSE = "<zoom>", "</zoom>"
STOP = ZOOM_CLOSE  # the stop string that ends a zoom turn

Box = tuple[float, float, float, float]


# --- chat markers ------------------------------------------------------------------------------


# The zoom environment writes the text around an observation in the model's chat template:
# `feedback_text` = turn_end + user_open + image×n + observation + turn_end + assistant_open, which
# is exactly how the template renders "assistant turn ends; user turn with images then text;
# assistant turn starts". A test checks this against the template. (Templates: seekworld.chat.)


def feedback_text(observation: str, n_images: int = 0, markers: ChatTemplate = QWEN) -> str:
    """The text the environment appends after a zoom turn (see the module docstring)."""
    return (
        markers.turn_end
        + markers.user_open
        + markers.image * n_images
        + observation
        + markers.turn_end
        + markers.assistant_open
    )


# --- settings ----------------------------------------------------------------------------------

DEFAULT_CROP_MAX_PIXELS = 512 * 28 * 28  # ≤ 512 Qwen2.5-VL visual tokens per crop


@dataclass(frozen=True)
class ZoomConfig:
    """Knobs of the zoom environment. Agent, SFT data and trace collection must use the same ones
    (the observation texts name `max_crops`)."""

    max_crops: int = 4  # crops carried out per episode
    max_turns: int | None = None  # turns before the episode is cut; None: 2 * max_crops + 2
    min_box_px: int = 8  # a box narrower or shorter than this many original pixels is refused
    crop_min_side: int = 224  # smaller crops are upscaled so their short side reaches this
    crop_max_pixels: int = DEFAULT_CROP_MAX_PIXELS  # pixel budget of a returned crop
    answer_reserve_tokens: int = 64  # tokens kept free for the answer when deciding a crop fits
    tool_bonus: float = 0.0  # paid once when the answer is right and at least one crop was made

    def __post_init__(self) -> None:
        if self.max_crops < 0:
            raise UsageError("max_crops must be >= 0")
        if self.max_turns is not None and self.max_turns < 1:
            raise UsageError("max_turns must be >= 1")
        if self.min_box_px < 1 or self.crop_min_side < 28:
            raise UsageError("min_box_px must be >= 1 and crop_min_side >= 28")
        if self.crop_max_pixels < 28 * 28:
            raise UsageError("crop_max_pixels must be at least 784 (one visual token)")
        if self.answer_reserve_tokens < 0 or not math.isfinite(self.tool_bonus):
            raise UsageError("answer_reserve_tokens must be >= 0 and tool_bonus finite")

    @property
    def turn_limit(self) -> int:
        return self.max_turns if self.max_turns is not None else 2 * self.max_crops + 2

    @property
    def images_per_prompt(self) -> int:
        """What upstream's `--data.max_images_per_prompt` must be at least: the prompt + crops."""
        return 1 + self.max_crops

    ENV_PREFIX = "SEEKWORLD_ZOOM_"

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> ZoomConfig:
        """Build from a dict (a TOML table); unknown keys are an error."""
        known = {f.name: f for f in fields(cls)}
        unknown = set(values) - set(known)
        if unknown:
            raise UsageError(f"unknown zoom setting(s) {sorted(unknown)}; known: {sorted(known)}")
        return replace(cls(), **dict(values))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ZoomConfig:
        """SEEKWORLD_ZOOM_MAX_CROPS, ..._MAX_TURNS, ..._MIN_BOX_PX, ..._CROP_MIN_SIDE,
        ..._CROP_MAX_PIXELS, ..._ANSWER_RESERVE_TOKENS, ..._TOOL_BONUS (upper-cased field names)."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(cls.ENV_PREFIX + f.name.upper())
            if raw in (None, ""):
                continue
            kind = float if f.name == "tool_bonus" else int
            try:
                values[f.name] = kind(raw)
            except ValueError:
                name = cls.ENV_PREFIX + f.name.upper()
                raise UsageError(f"{name}={raw!r} is not a {kind.__name__}") from None
        return cls(**values)

    def to_env(self) -> dict[str, str]:
        """The environment variables that reproduce this config in `from_env`."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                out[self.ENV_PREFIX + f.name.upper()] = str(value)
        return out


# --- boxes -------------------------------------------------------------------------------------


class BoxError(SeekworldError, ValueError):
    """A box that cannot be used. `kind`: malformed | empty | inverted | out_of_range | too_small."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_BOX = re.compile(rf"^\[\s*({_NUM})\s*,\s*({_NUM})\s*,\s*({_NUM})\s*,\s*({_NUM})\s*\]$")
_EPS = 1e-6  # float noise allowed around 0 and 1


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_box(text: str) -> Box:
    """`"[x1, y1, x2, y2]"` -> floats in [0, 1] with x1 < x2, y1 < y2. Raises BoxError."""
    content = text.strip()
    if not content:
        raise BoxError("empty", "the zoom holds no box")
    m = _BOX.match(content)
    if m is None:
        shown = _clip(content)
        raise BoxError("malformed", f"expected four numbers like [0.1, 0.2, 0.5, 0.6], got {shown!r}")
    x1, y1, x2, y2 = (float(g) for g in m.groups())
    values = (x1, y1, x2, y2)
    if not all(math.isfinite(v) for v in values) or any(v < -_EPS or v > 1 + _EPS for v in values):
        raise BoxError(
            "out_of_range",
            f"coordinates must be fractions of the image in [0, 1], got {format_box(values)}",
        )
    x1, y1, x2, y2 = (min(1.0, max(0.0, v)) for v in values)
    if x1 == x2 or y1 == y2:
        raise BoxError("empty", f"the box {format_box(values)} has no area")
    if x1 > x2 or y1 > y2:
        raise BoxError("inverted", f"need x1 < x2 and y1 < y2, got {format_box(values)}")
    return (x1, y1, x2, y2)


def _number(v: float) -> str:
    text = f"{v:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def format_box(box: Sequence[float]) -> str:
    """`[0.1, 0.25, 0.4, 0.5]`: up to three decimals, trailing zeros dropped."""
    return "[" + ", ".join(_number(float(v)) for v in box) + "]"


# --- turns -------------------------------------------------------------------------------------

_ZOOM_AT_END = re.compile(r"<zoom>((?:(?!<zoom>).)*?)</zoom>\s*\Z", re.S)
_ZOOM_SHAPE = re.compile(r"\A\s*<think>(.*?)</think>\s*<zoom>(.*?)</zoom>\s*\Z", re.S)
_TURN_TAGS = ("<think>", "</think>", ZOOM_OPEN, ZOOM_CLOSE)


def is_zoom_turn(turn: str) -> bool:
    """A turn that asks for a crop: it ends with `</zoom>` (what the stop string produces)."""
    return turn.rstrip().endswith(ZOOM_CLOSE)


def zoom_content(turn: str) -> str | None:
    """The inside of the `<zoom>…</zoom>` that ends the turn, or None."""
    m = _ZOOM_AT_END.search(turn)
    return m.group(1) if m else None


def zoom_turn_ok(turn: str) -> bool:
    """A zoom turn of the documented shape: one non-empty think, then one zoom, nothing else."""
    m = _ZOOM_SHAPE.match(turn)
    if m is None or not m.group(1).strip():
        return False
    return all(turn.count(tag) == 1 for tag in _TURN_TAGS) and "<answer>" not in turn


def zoom_turn(think: str, box: Sequence[float]) -> str:
    """The canonical text of a zoom turn (what SFT teaches)."""
    return f"<think>{think}</think>\n<zoom>{format_box(box)}</zoom>"


def answer_turn(think: str, answer: str) -> str:
    """The canonical text of the final turn."""
    return f"<think>{think}</think>\n<answer>{answer}</answer>"


# --- observations ------------------------------------------------------------------------------

ANSWER_NOW = "Answer now with <answer>$country,region$</answer>."
_BOX_RULE = (
    "with 0 <= x1 < x2 <= 1 and 0 <= y1 < y2 <= 1, as fractions of the original image's width and height."
)
# How the model asks for a crop: the `<zoom>` tag (OpenRLHF agent, SFT traces) or a call of the `zoom`
# tool (TRL's tool calling; the call's `box` argument is the same box text).
_BOX_HELP = {
    False: f"Write <zoom>[x1, y1, x2, y2]</zoom> {_BOX_RULE}",
    True: f"Call zoom with box [x1, y1, x2, y2] {_BOX_RULE}",
}


def crop_observation(index: int, box: Box, config: ZoomConfig) -> str:
    text = f"Zoomed in on {format_box(box)} (crop {index} of {config.max_crops})."
    if index >= config.max_crops:
        text += " No zooms left. " + ANSWER_NOW
    return text


def error_observation(message: str, tool_call: bool = False) -> str:
    return f"Zoom failed: {message}. {_BOX_HELP[tool_call]}"


def limit_observation(config: ZoomConfig) -> str:
    return f"No zooms left (at most {config.max_crops}). {ANSWER_NOW}"


def budget_observation() -> str:
    return f"No room left for another image. {ANSWER_NOW}"


def system_prompt(config: ZoomConfig | None = None, tool_call: bool = False) -> str:
    """The system message that explains the zoom tool (prompts of zoom SFT and RL data).
    `tool_call`: the model calls a `zoom` tool (TRL backend) instead of writing the `<zoom>` tag."""
    config = config or ZoomConfig()
    action = (
        "call the zoom tool with box [x1, y1, x2, y2]" if tool_call else "write <zoom>[x1, y1, x2, y2]</zoom>"
    )
    return (
        "You are an expert in photo geolocation. Work out where a photo was taken from what it shows: "
        "the script and language of signs, licence plates, road markings, the side of the road traffic "
        "drives on, architecture, vegetation, terrain and climate. You can zoom in to look at details: "
        f"reason inside <think></think>, then {action}, the corners of a region "
        "as fractions of the original image (0 to 1; x to the right, y down), and you will be shown that "
        f"region enlarged. You may zoom at most {config.max_crops} times. When you are sure, reason inside "
        "<think></think> and give your final answer inside <answer></answer> in the form "
        "$country,administrative_area_level_1$: the country and its first-level administrative region "
        "(state, province, prefecture), for example <answer>$Japan,Osaka$</answer>. Give exactly one "
        "country and one region."
    )


# --- the episode -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """Why the environment will not carry out a valid-looking box: `kind` is "budget" (the image
    would not fit in the token budget) or a BoxError kind ("too_small")."""

    kind: str
    message: str


# The environment's check of a parsed box (pixel size, token budget); None means "go ahead".
Check = Callable[[Box], Refusal | None]

STEP_KINDS = ("zoom", "invalid", "over_limit", "no_budget", "final")


@dataclass(frozen=True)
class Step:
    kind: str  # one of STEP_KINDS
    turn: str  # the model's turn, end tokens stripped
    box: Box | None = None  # the crop carried out ("zoom") or refused ("no_budget")
    observation: str = ""
    feedback: str = ""  # what follows the turn in the transcript ("" when the episode ends)
    n_images: int = 0
    done: bool = False
    error: str | None = None  # BoxError/Refusal kind for "invalid"


@dataclass
class ZoomEpisode:
    """The environment's state machine for one episode. Feed it the model's turns one at a time.

    It does no image work: `check` (given by the caller) decides whether a parsed box can be
    cropped and fits; the caller crops when the step's kind is "zoom".
    """

    config: ZoomConfig = field(default_factory=ZoomConfig)
    markers: ChatTemplate = QWEN
    steps: list[Step] = field(default_factory=list)
    tool_call: bool = False  # error observations explain the `zoom` tool call, not the `<zoom>` tag

    def count(self, kind: str) -> int:
        return sum(1 for s in self.steps if s.kind == kind)

    @property
    def zoom_calls(self) -> int:
        return self.count("zoom")

    @property
    def done(self) -> bool:
        return bool(self.steps) and self.steps[-1].done

    @property
    def turns(self) -> list[str]:
        return [s.turn for s in self.steps]

    @property
    def final_turn(self) -> str | None:
        """The last turn when the episode ended on a non-zoom turn, else None."""
        return self.steps[-1].turn if self.steps and self.steps[-1].kind == "final" else None

    def stats(self) -> dict[str, float]:
        """Numbers for `extra_logs` (same keys always)."""
        return {
            "zoom_calls": float(self.zoom_calls),
            "invalid_zoom": float(self.count("invalid")),
            "zoom_over_limit": float(self.count("over_limit")),
            "zoom_no_budget": float(self.count("no_budget")),
            "turns": float(len(self.steps)),
        }

    def step(self, action_text: str, check: Check | None = None) -> Step:
        """Take one model turn; return what the environment does. Never raises on model output."""
        if self.done:
            raise RuntimeError("the episode is over")
        # Upstream decodes with special tokens kept: the turn's end-of-turn tokens go.
        turn = chat.strip_end_tokens(action_text, self.markers.end_tokens)
        if not is_zoom_turn(turn):
            step = Step("final", turn, done=True)
        else:
            step = self._zoom(turn, check)
        if not step.done and len(self.steps) + 1 >= self.config.turn_limit:
            # Out of turns: the episode ends here, without an answer.
            step = replace(step, feedback="", done=True)
        self.steps.append(step)
        return step

    def _zoom(self, turn: str, check: Check | None) -> Step:
        def reply(kind: str, observation: str, box: Box | None = None, images: int = 0, error=None) -> Step:
            fb = feedback_text(observation, images, self.markers)
            return Step(kind, turn, box, observation, fb, images, False, error)

        if self.zoom_calls >= self.config.max_crops:
            return reply("over_limit", limit_observation(self.config))
        try:
            box = parse_box(zoom_content(turn) or "")
        except BoxError as exc:
            return reply("invalid", error_observation(str(exc), self.tool_call), error=exc.kind)
        refusal = check(box) if check is not None else None
        if refusal is None:
            return reply("zoom", crop_observation(self.zoom_calls + 1, box, self.config), box, images=1)
        if refusal.kind == "budget":
            return reply("no_budget", budget_observation(), box)
        return reply("invalid", error_observation(refusal.message, self.tool_call), error=refusal.kind)


# --- transcripts -------------------------------------------------------------------------------


class TranscriptError(SeekworldError, ValueError):
    """Turns that do not make a complete episode (e.g. a refused zoom in a trace)."""


@dataclass(frozen=True)
class Segment:
    text: str
    trainable: bool  # a model turn (loss) or environment text (no loss)
    n_images: int = 0  # images the text's placeholders stand for, in order
    box: Box | None = None  # the crop behind this segment's image
    observation: str = ""  # the observation text inside an environment segment


def transcript_segments(
    turns: Sequence[str],
    config: ZoomConfig | None = None,
    markers: ChatTemplate = QWEN,
    check: Check | None = None,
) -> list[Segment]:
    """The text after the prompt, as the RL agent produces it, in model/environment pieces.

    The last piece is the final turn followed by the end-of-turn token (what the model emits to
    stop). Raises TranscriptError unless every turn but the last is a carried-out zoom and the
    last ends the episode: SFT must only teach episodes the RL environment would produce.
    """
    episode = ZoomEpisode(config or ZoomConfig(), markers)
    segments: list[Segment] = []
    for i, turn in enumerate(turns):
        step = episode.step(turn, check)
        last = i == len(turns) - 1
        if step.kind == "final":
            if not last:
                rest = len(turns) - i - 1
                raise TranscriptError(f"turn {i + 1} ends the episode but {rest} turn(s) follow")
            segments.append(Segment(step.turn + markers.turn_end, True))
            return segments
        if step.kind != "zoom":
            raise TranscriptError(f"turn {i + 1}: zoom not carried out ({step.kind}): {step.observation}")
        if step.done:
            raise TranscriptError(
                f"turn {i + 1}: the episode is out of turns (max_turns {episode.config.turn_limit})"
            )
        segments.append(Segment(step.turn, True))
        segments.append(Segment(step.feedback, False, step.n_images, step.box, step.observation))
    raise TranscriptError("the last turn is a zoom; a transcript must end with the answer turn")


def render_transcript(
    turns: Sequence[str],
    config: ZoomConfig | None = None,
    markers: ChatTemplate = QWEN,
    check: Check | None = None,
) -> str:
    """`transcript_segments` joined: the exact text that follows the prompt at RL time."""
    return "".join(s.text for s in transcript_segments(turns, config, markers, check))


IMAGE_TAG = "<image>"


def chat_parts(messages: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Prompt messages with string contents turned into content parts the way upstream's
    PromptDataset does it: split on `<image>`, one image part per tag, text parts stripped."""
    out = []
    for m in messages:
        content = m.get("content")
        if isinstance(content, str) and IMAGE_TAG in content:
            parts: list[dict[str, Any]] = []
            for i, piece in enumerate(content.split(IMAGE_TAG)):
                if i > 0:
                    parts.append({"type": "image"})
                if piece.strip():
                    parts.append({"type": "text", "text": piece.strip()})
            content = parts
        out.append({**m, "content": content})
    return out


def transcript_messages(
    prompt_messages: Sequence[Mapping[str, Any]],
    turns: Sequence[str],
    config: ZoomConfig | None = None,
    markers: ChatTemplate = QWEN,
) -> list[dict[str, Any]]:
    """The episode as chat messages (TRL's conversational format): the prompt, then each model turn
    as an assistant message and each observation as a user message `[image, text]`. Rendered by
    the model's chat template, they give the prompt followed by `render_transcript` (and the
    template's newline after the last end-of-turn token)."""
    messages = [dict(m) for m in prompt_messages]
    segments = transcript_segments(turns, config, markers)
    for i, seg in enumerate(segments):
        if seg.trainable:
            # The final segment carries the end-of-turn token; the template adds its own.
            text = seg.text.removesuffix(markers.turn_end) if i == len(segments) - 1 else seg.text
            messages.append({"role": "assistant", "content": [{"type": "text", "text": text}]})
        else:
            parts: list[dict[str, Any]] = [{"type": "image"} for _ in range(seg.n_images)]
            parts.append({"type": "text", "text": seg.observation})
            messages.append({"role": "user", "content": parts})
    return messages
