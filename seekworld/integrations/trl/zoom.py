"""The zoom tool on TRL's GRPOTrainer: the policy calls `zoom(box=[x1, y1, x2, y2])` and gets the crop
back as an image in the tool message (TRL 1.16 tool calling, `environment_factory`).

    processor = apply_tool_template(processor)         # tool-capable Qwen2.5-VL template + parser
    func = zoom_reward_function(reward, zoom)          # scores the transcript with seekworld.zoom.reward
    GRPOTrainer(..., reward_funcs=[func], environment_factory=environment_factory(zoom),
                args=GRPOConfig(max_tool_calling_iterations=tool_rounds(zoom)))

Everything about boxes, crops, limits and scores is `seekworld.zoom` (protocol, crop, reward); this
module only adapts them to TRL:

- `ZoomEnvironment`: one per rollout. TRL calls `reset(**row)` with the dataset row (its decoded
  `images`: the photo the prompt shows) and exposes the public method `zoom` as the tool. The tool
  steps a `ZoomEpisode` (limits, box rules, observation texts), crops with `seekworld.zoom.crop` and
  returns `[image, text]` blocks; a refused box returns the protocol's error text, never raises.
- `transcript_turns`: TRL's completion (assistant messages with `tool_calls`, tool messages) -> the
  protocol's turns, a call rendered as `<zoom>BOX</zoom>` after the message's text. The reward
  replays them through a fresh `ZoomEpisode` with the environment's crop check, so format, accuracy,
  the counters and the tool bonus come from `score_episode`, exactly as on the OpenRLHF agent.
- `tool_messages`: a protocol transcript (SFT traces) -> chat messages in the tool-call form.

The turn budget: the protocol allows `turn_limit` turns, every one but the last a zoom, so TRL gets
`max_tool_calling_iterations = turn_limit - 1`. The token budget is TRL's: a tool result that would
overflow `max_completion_length` is rolled back and the sample ends there (scored as it stands, with
no answer); `answer_reserve_tokens` is not used on this path.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any

from seekworld.chat import QWEN
from seekworld.errors import SeekworldError
from seekworld.rewards.scoring import SampleScore
from seekworld.rewards.variants import RewardConfig
from seekworld.zoom.crop import check_box, crop
from seekworld.zoom.protocol import (
    ZOOM_CLOSE,
    ZOOM_OPEN,
    Box,
    Refusal,
    ZoomConfig,
    ZoomEpisode,
    limit_observation,
    transcript_segments,
)
from seekworld.zoom.reward import episode_config, score_episode

__all__ = [
    "RESPONSE_TEMPLATE",
    "TEMPLATE_FILE",
    "TOOL_NAME",
    "ZoomEnvironment",
    "ZoomTemplateError",
    "apply_tool_template",
    "call_box_text",
    "environment_factory",
    "tool_messages",
    "tool_rounds",
    "tool_template",
    "transcript_turns",
    "zoom_reward_function",
]

TOOL_NAME = "zoom"
TEMPLATE_FILE = "templates/qwen2_5_vl_tools.jinja"
# Tokens the template writes; a tokenizer without them is not a Qwen2/2.5-VL one.
_TEMPLATE_TOKENS = ("<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|image_pad|>", "<|vision_end|>")
_MAX_CALL_CHARS = 200  # what of a non-zoom call is echoed into the (malformed) box text

# How TRL reads a tool call out of a generated turn (transformers' `response_template` format): the
# text before `<tool_call>` is the message content, each `<tool_call>{json}</tool_call>` one call.
# Unlike TRL's Qwen3 parser it keeps `<think>…</think>` in the content: our format reward reads it.
RESPONSE_TEMPLATE: dict[str, Any] = {
    "defaults": {"role": "assistant"},
    "start_anchor": "<|im_start|>assistant\n",
    "fields": {
        "tool_calls": {
            "open": "<tool_call>",
            "close_pattern": r"</tool_call>\s*",
            "repeats": True,
            "content": "json",
            "transform": {"type": "function", "function": "{content}"},
        },
        "content": {"close_pattern": r"<\|im_end\|>\s*", "content": "text"},
    },
}


class ZoomTemplateError(SeekworldError, ValueError):
    """The model's tokenizer cannot use the shipped tool template (not a Qwen2/2.5-VL tokenizer)."""


def tool_template() -> str:
    """The shipped tool-capable Qwen2.5-VL chat template (Jinja)."""
    return resources.files("seekworld.integrations.trl").joinpath(TEMPLATE_FILE).read_text(encoding="utf-8")


def apply_tool_template(processor: Any) -> Any:
    """Give `processor` (a Qwen2/2.5-VL processor) the tool template and TRL's tool-call parser.
    Returns the same object. Raises ZoomTemplateError when its tokenizer lacks Qwen's tokens."""
    tokenizer = getattr(processor, "tokenizer", processor)
    vocab = tokenizer.get_vocab()
    missing = [t for t in _TEMPLATE_TOKENS if t not in vocab]
    if missing:
        raise ZoomTemplateError(
            f"zoom on TRL needs a Qwen2/2.5-VL tokenizer (the tool template writes {', '.join(missing)}, "
            "which this one lacks)"
        )
    template = tool_template()
    processor.chat_template = template
    if tokenizer is not processor:
        tokenizer.chat_template = template
    tokenizer.response_template = dict(RESPONSE_TEMPLATE)
    _guard_parser(tokenizer)
    return processor


class _DeepCall(ValueError):
    """A tool call nested too deep for the JSON reader: read as plain text, not a call."""


def _guard_parser(tokenizer: Any) -> None:
    """Make `tokenizer.parse_response` raise ValueError where the JSON reader hits the recursion
    limit. A policy that writes `[` a thousand times inside `<tool_call>` makes it raise
    RecursionError, which TRL's `parse_response` does not catch (only ValueError/TypeError, after
    which it reads the turn as plain text): the training step would crash."""
    parse = getattr(tokenizer, "parse_response", None)
    if parse is None or getattr(parse, "_seekworld_guarded", False):
        return

    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return parse(*args, **kwargs)
        except RecursionError:
            raise _DeepCall("tool call nested too deep to read") from None

    guarded._seekworld_guarded = True  # type: ignore[attr-defined]
    tokenizer.parse_response = guarded


def tool_rounds(zoom: ZoomConfig) -> int:
    """TRL's `max_tool_calling_iterations`: every turn but the last may be a zoom."""
    return zoom.turn_limit - 1


# --- the tool ----------------------------------------------------------------------------------


def _box_text(box: Any) -> str:
    """A `box` argument as the protocol's box text (parse_box decides whether it is valid)."""
    if isinstance(box, str):
        return box
    try:
        return json.dumps(box, allow_nan=False)
    except (TypeError, ValueError):
        return str(type(box).__name__)  # not JSON: malformed for parse_box


def call_box_text(call: Mapping[str, Any]) -> str:
    """The box text of one TRL tool call (`{"type": "function", "function": {name, arguments}}`).

    A call of another tool, or with arguments other than exactly `box`, gives text parse_box
    refuses as malformed: a bad call is an invalid zoom, as a bad `<zoom>` tag is."""
    function = call.get("function", call) if isinstance(call, Mapping) else {}
    args = function.get("arguments") if isinstance(function, Mapping) else None
    if isinstance(args, str):
        try:
            args = json.loads(args)
        except ValueError:
            return args[:_MAX_CALL_CHARS]
    if isinstance(function, Mapping) and function.get("name") == TOOL_NAME and isinstance(args, dict):
        if set(args) == {"box"}:
            return _box_text(args["box"])
    return json.dumps(call, default=str)[:_MAX_CALL_CHARS]


def _first_image(row: Mapping[str, Any]) -> Any:
    images = row.get("images")
    if images:
        return images[0]
    return row.get("image")


class ZoomEnvironment:
    """One rollout's zoom tool. TRL makes the public methods other than `reset` tools: only `zoom`."""

    def __init__(self, config: ZoomConfig | None = None) -> None:
        self.config = config or ZoomConfig()
        self._episode = ZoomEpisode(self.config, QWEN, tool_call=True)
        self._image: Any = None

    def reset(self, **row: Any) -> None:
        """Start a rollout on a dataset row: the photo to crop is the row's (first) image."""
        image = _first_image(row)
        if image is not None and getattr(image, "mode", "RGB") != "RGB":
            image = image.convert("RGB")
        self._image = image
        self._episode = ZoomEpisode(self.config, QWEN, tool_call=True)
        return None  # the prompt already shows the photo

    def _check(self, box: Box) -> Refusal | None:
        if self._image is None:
            return Refusal("unavailable", "this photo cannot be zoomed")
        return check_box(box, self._image.size, self.config)

    def zoom(self, box: list[float]) -> list[dict[str, Any]] | str:
        """Look closer at a region of the photo: it is cut out of the original photo and shown enlarged.

        Args:
            box: The region's corners [x1, y1, x2, y2] as fractions of the original photo's width
                and height, from 0 to 1 (x to the right, y down; x1 < x2, y1 < y2).
        """
        if self._episode.done:
            return limit_observation(self.config)
        turn = f"{ZOOM_OPEN}{_box_text(box)}{ZOOM_CLOSE}"
        step = self._episode.step(turn, self._check)
        if step.kind != "zoom":
            return step.observation or limit_observation(self.config)
        tile = crop(self._image, step.box, self.config)
        return [{"type": "image", "image": tile}, {"type": "text", "text": step.observation}]

    def _score(self, completion: Any, label: Any, reward: RewardConfig) -> SampleScore:
        """`score_episode` of a completion's transcript, replayed with this rollout's crop check
        (private: TRL makes every public method a tool)."""
        episode = replay(transcript_turns(completion), self.config, self._check)
        return score_episode(episode, label, reward, self.config)


def environment_factory(zoom: ZoomConfig) -> Callable[[], ZoomEnvironment]:
    """What `GRPOTrainer(environment_factory=...)` takes: builds one environment per rollout."""
    return partial(ZoomEnvironment, zoom)


# --- transcripts -------------------------------------------------------------------------------


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            p.get("text") or "" for p in content if isinstance(p, dict) and p.get("type") == "text"
        )
    return ""


def transcript_turns(completion: Any) -> list[str]:
    """TRL's completion -> the protocol's model turns. Each assistant message is one turn: its text,
    then `<zoom>BOX</zoom>` for each tool call (one call per turn is the protocol's shape; a turn with
    several calls fails the format). Tool messages are the environment's, not turns."""
    if isinstance(completion, str):
        return [completion]
    turns = []
    for message in completion:
        if not isinstance(message, Mapping) or message.get("role", "assistant") != "assistant":
            continue
        calls = message.get("tool_calls") or []
        zooms = "".join(f"{ZOOM_OPEN}{call_box_text(c)}{ZOOM_CLOSE}" for c in calls)
        turns.append(_text(message.get("content")) + zooms)
    return turns


def replay(turns: Sequence[str], config: ZoomConfig, check: Callable[[Box], Refusal | None]) -> ZoomEpisode:
    """The episode the turns make under the protocol, with the environment's crop check."""
    episode = ZoomEpisode(config, QWEN, tool_call=True)
    for turn in turns:
        if episode.done:
            break
        episode.step(turn, check)
    return episode


# --- rewards -----------------------------------------------------------------------------------


def zoom_reward_function(
    reward: RewardConfig, zoom: ZoomConfig, recorder_path: str | Path | None = None
) -> Callable[..., list[float]]:
    """TRL's reward function of the zoom tool: each rollout's `score_episode` total, as the OpenRLHF
    agent pays. Each component (`format` being the multi-turn format, `tool_bonus` included) is logged
    as `rewards/<name>/mean`, and the episode counters (`zoom_calls`, `invalid_zoom`, ...) as metrics."""
    from seekworld.integrations.trl.rewards import REWARD_NAME, SampleRecorder, _step, report

    if reward.needs_judge:
        raise SeekworldError("the LLM judge is not wired into the zoom tool on TRL")
    recorder = SampleRecorder(recorder_path) if recorder_path is not None else None
    components = episode_config(reward).components
    counters = list(ZoomEpisode().stats())

    def fn(
        completions: list[Any], label: list[Any], environments: list[ZoomEnvironment] | None = None, **kw: Any
    ) -> list[float]:
        if environments is None:
            raise SeekworldError("zoom rewards need the trainer's environments (environment_factory)")
        scores = [
            env._score(c, lab, reward) for env, c, lab in zip(environments, completions, label, strict=True)
        ]
        if recorder is not None:
            recorder.write(_step(kw), [transcript_turns(c) for c in completions], list(label), scores)
        return report(scores, components, kw, counters)

    fn.__name__ = fn.__qualname__ = REWARD_NAME
    return fn


# --- SFT traces --------------------------------------------------------------------------------


def tool_messages(
    prompt_messages: Sequence[Mapping[str, Any]],
    turns: Sequence[str],
    config: ZoomConfig | None = None,
) -> list[dict[str, Any]]:
    """A protocol transcript (the `<zoom>` turns of an SFT trace) as chat messages in the tool-call
    form this backend trains: each zoom turn an assistant message (its `<think>` as content, the box
    as a `zoom` call), each crop a tool message `[image, observation]`, the final turn an assistant
    message. A system message that is the protocol's `<zoom>`-tag prompt becomes its tool-call
    form. Rendered by the shipped template, they are what a TRL zoom rollout with the same turns
    looks like. Raises TranscriptError for turns the environment would not carry out."""
    from seekworld.zoom.protocol import parse_box, system_prompt, zoom_content

    config = config or ZoomConfig()
    messages = [
        _tool_system(dict(m), system_prompt(config), system_prompt(config, True)) for m in prompt_messages
    ]
    segments = transcript_segments(turns, config, QWEN)
    for seg in segments:
        if not seg.trainable:
            parts: list[dict[str, Any]] = [{"type": "image"} for _ in range(seg.n_images)]
            parts.append({"type": "text", "text": seg.observation})
            messages.append({"role": "tool", "name": TOOL_NAME, "content": parts})
            continue
        text = seg.text.removesuffix(QWEN.turn_end)
        box = zoom_content(text)
        if box is None:  # the final turn
            messages.append({"role": "assistant", "content": text})
            continue
        think = text[: text.rindex(ZOOM_OPEN)].rstrip()
        call = {
            "type": "function",
            "function": {"name": TOOL_NAME, "arguments": {"box": list(parse_box(box))}},
        }
        messages.append({"role": "assistant", "content": think, "tool_calls": [call]})
    return messages


def _tool_system(message: dict[str, Any], tag_form: str, tool_form: str) -> dict[str, Any]:
    """A system message that teaches the `<zoom>` tag (how traces are prepared) says instead to
    call the tool: the targets are tool calls, and an instruction they contradict would teach the
    model to ignore its instructions. Other messages are returned as they are."""
    if message.get("role") != "system":
        return message
    content = message.get("content")
    if content == tag_form:
        return {**message, "content": tool_form}
    if isinstance(content, list):
        parts = [
            {**p, "text": tool_form} if p.get("type") == "text" and p.get("text") == tag_form else p
            for p in content
        ]
        return {**message, "content": parts}
    return message


# --- preflight ---------------------------------------------------------------------------------
