"""Zoom-tool agent for upstream OpenRLHF 0.11.2: `--train.agent_func_path <this file>`.

The model reasons, writes `<zoom>[x1, y1, x2, y2]</zoom>` (fractions of the original image) to see
a detail, gets the crop back as a new image, and finally answers `<answer>$country,region$</answer>`.
The protocol (tags, observations, limits, format) is `seekworld.zoom.protocol`; crops are
`seekworld.zoom.crop`; the reward is `seekworld.zoom.reward`. This file only adapts them to
upstream's `MultiTurnAgentExecutor`:

- `AgentExecutor` sets the stop string `</zoom>` (upstream sets none) on a copy of the sampling
  parameters, so a zoom turn ends at its tag.
- `AgentInstance.step` parses the turn, crops the ORIGINAL image named by the label's `image`
  (prepare with `--label-format json`), and returns the crop in `environment_images` with its
  observation text. A crop that would not fit in the remaining token budget is not sent (upstream
  would drop it and leave the model an empty image slot): the model is told to answer instead.
- The reward is paid on the last step (upstream sums step rewards); `extra_logs` carry numbers
  only, with the same keys on every step.

Settings come from the environment of the rollout workers (set them where Ray starts):
SEEKWORLD_ZOOM_* (see `ZoomConfig.from_env`) and the reward server's SEEKWORLD_REWARD,
SEEKWORLD_WEIGHTS, SEEKWORLD_JUDGE_* (see `seekworld.service.settings.ENV_VARS`).
Upstream's `--data.max_images_per_prompt` must be at least 1 + SEEKWORLD_ZOOM_MAX_CROPS.

`preflight()` imports, builds the executor and runs one canned episode without a GPU.

Upstream loads this file by path without registering it in `sys.modules`: define no dataclass
here (the settings type is `seekworld.integrations.openrlhf.zoom_settings.ZoomSettings`).
"""

from __future__ import annotations

import asyncio
import contextvars
import copy
import json
import logging
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import torch
from openrlhf.utils.agent import AgentInstanceBase, MultiTurnAgentExecutor

from seekworld.geo.label import GoldLabel, LabelError, parse_label
from seekworld.integrations.openrlhf.zoom_settings import ZoomSettings
from seekworld.zoom.crop import check_box, crop, load_image, visual_tokens_of
from seekworld.zoom.protocol import (
    STOP,
    Box,
    Refusal,
    Step,
    ZoomEpisode,
    answer_turn,
    crop_observation,
    feedback_text,
    zoom_turn,
)
from seekworld.zoom.reward import log_keys, score_episode

__all__ = [
    "AgentExecutor",
    "AgentInstance",
    "AgentSettings",
    "ZoomAgentExecutor",
    "ZoomAgentInstance",
    "preflight",
    "with_stop",
]

log = logging.getLogger(__name__)


# The settings type lives in the package: upstream loads this file without registering it in
# sys.modules, and dataclasses cannot be defined in such a module (see zoom_settings).
AgentSettings = ZoomSettings


@lru_cache(maxsize=1)
def default_settings() -> ZoomSettings:
    """Read once per process: upstream builds `AgentExecutor()` with no arguments."""
    return ZoomSettings.from_env()


_JUDGES: dict[Any, Any] = {}
_JUDGES_LOCK = threading.Lock()


def _judge_for(config: Any) -> Any:
    from seekworld.rewards.judge import Judge

    with _JUDGES_LOCK:  # one client and pool per process, shared by all episodes
        if config not in _JUDGES:
            _JUDGES[config] = Judge(config)
        return _JUDGES[config]


# Upstream builds the AgentInstance with no arguments inside `execute`; the executor hands it its
# settings and the tokenizer (what upstream passes to `execute`) through a context variable, set
# before and read synchronously by the constructor, so concurrent episodes never see each other's.
_CONTEXT: contextvars.ContextVar[tuple[ZoomSettings, Any]] = contextvars.ContextVar("seekworld_zoom_context")


def with_stop(sampling_params: Any) -> Any:
    """A copy of the sampling parameters that stops at `</zoom>` and keeps the tag in the output."""
    params = copy.deepcopy(sampling_params)
    stop = getattr(params, "stop", None) or []
    stop = [stop] if isinstance(stop, str) else list(stop)
    if STOP not in stop:
        stop.append(STOP)
    params.stop = stop
    # vLLM drops the stop string from the text unless asked; the protocol needs it there.
    params.include_stop_str_in_output = True
    return params


class ZoomAgentInstance(AgentInstanceBase):
    """One episode: built by upstream for every sample."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        context = _CONTEXT.get(None)
        self.settings, self.tokenizer = context if context is not None else (default_settings(), None)
        self.episode = ZoomEpisode(self.settings.zoom, self.settings.markers)
        self.gold: GoldLabel | None = None
        self.label: Any = None
        self._image: Any = None
        self._image_error: str | None = None
        self._keys = log_keys(self.settings.reward)
        if self.settings.judge is not None:
            self._keys = [*self._keys, "judge_error"]

    async def reset(self, states: dict, **kwargs: Any) -> dict:
        self.label = states.get("label")
        try:
            self.gold = parse_label(self.label)
        except LabelError as exc:
            log.warning("zoom agent: unreadable label (%s); the episode scores 0", exc)
        return states

    # -- token budget ---------------------------------------------------------------------------

    def _text_tokens(self, text: str) -> int:
        tok = getattr(self.tokenizer, "tokenizer", self.tokenizer)
        if tok is None:
            return len(text.encode("utf-8"))  # a byte-level BPE never needs more tokens than bytes
        return len(tok(text, add_special_tokens=False)["input_ids"])

    def _image_tokens(self, size: Sequence[int]) -> int:
        processor = getattr(self.tokenizer, "image_processor", None)
        if processor is not None and hasattr(processor, "get_number_of_image_patches"):
            patches = processor.get_number_of_image_patches(int(size[1]), int(size[0]), {})
            merge = int(getattr(processor, "merge_size", 2) or 1)
            return int(patches) // (merge * merge)
        return visual_tokens_of(size)

    def _feedback_tokens(self, step_text: str, image_size: Sequence[int] | None) -> int:
        n = self._text_tokens(step_text)
        if image_size is not None:
            n += self._image_tokens(image_size) - 1  # the one placeholder becomes N image tokens
        return n

    # -- the step -------------------------------------------------------------------------------

    def _original(self) -> Any:
        if self._image is None and self._image_error is None:
            path = self.gold.image if self.gold is not None else None
            if not path:
                self._image_error = "this photo cannot be zoomed (no image path in the label)"
                log.warning("zoom agent: label has no 'image'; prepare with --label-format json")
            else:
                try:
                    self._image = load_image(path)
                except (OSError, ValueError) as exc:
                    self._image_error = "this photo cannot be zoomed"
                    log.warning("zoom agent: cannot load %s: %s", path, exc)
        return self._image

    def _play(self, action: str, remaining: int | None) -> tuple[Step, Any]:
        """Run the episode step (blocking: image decode and crop)."""
        zoom = self.settings.zoom
        made: dict[str, Any] = {}
        action_tokens = self._text_tokens(action) if remaining is not None else 0

        def check(box: Box) -> Refusal | None:
            image = self._original()
            if image is None:
                return Refusal("unavailable", self._image_error or "no image")
            refusal = check_box(box, image.size, zoom)
            if refusal is not None:
                return refusal
            tile = crop(image, box, zoom)
            if remaining is not None:
                observation = crop_observation(self.episode.zoom_calls + 1, box, zoom)
                text = feedback_text(observation, 1, self.settings.markers)
                need = action_tokens + self._feedback_tokens(text, tile.size) + zoom.answer_reserve_tokens
                if need > remaining:
                    return Refusal("budget", "no room for the image")
            made["tile"] = tile
            return None

        step = self.episode.step(action, check)
        if not step.done and remaining is not None and step.n_images == 0:
            need = action_tokens + self._feedback_tokens(step.feedback, None) + zoom.answer_reserve_tokens
            if need > remaining:
                # Not even room to tell the model to answer: end here (scored as it stands).
                step = replace(step, feedback="", done=True)
                self.episode.steps[-1] = step
        return step, made.get("tile")

    async def step(self, states: dict, **kwargs: Any) -> dict:
        params = states.get("sampling_params")
        remaining = getattr(params, "max_tokens", None)  # budget before this turn (upstream sets it)
        step, tile = await asyncio.to_thread(self._play, states["action_text"], remaining)

        logs = dict.fromkeys(self._keys, 0.0)
        logs.update(self.episode.stats())
        reward = score = 0.0
        if step.done:
            result = await asyncio.to_thread(self._score)
            logs.update({k: v for k, v in result.logs.items() if k in logs})
            if "judge_error" in logs:
                logs["judge_error"] = (
                    1.0 if result.judge is not None and result.judge.error is not None else 0.0
                )
            reward, score = result.reward, result.logs["accuracy"]
        return {
            "rewards": torch.tensor(reward, dtype=torch.float32),
            "scores": float(score),
            "environment_feedback": step.feedback,
            "environment_images": [tile] if tile is not None else None,
            "done": step.done,
            "sampling_params": params,
            "extra_logs": logs,
        }

    def _score(self) -> Any:
        judge = _judge_for(self.settings.judge) if self.settings.judge is not None else None
        label = self.gold if self.gold is not None else self.label
        return score_episode(self.episode, label, self.settings.reward, self.settings.zoom, judge)


class ZoomAgentExecutor(MultiTurnAgentExecutor):
    """Upstream's multi-turn executor with the zoom stop string and our settings."""

    def __init__(self, settings: ZoomSettings | None = None) -> None:
        super().__init__(ZoomAgentInstance)
        self.settings = settings if settings is not None else default_settings()

    async def execute(
        self, prompt, label, sampling_params, max_length: int, hf_tokenizer, llm_engine, images=None
    ):
        params = with_stop(sampling_params)
        token = _CONTEXT.set((self.settings, hf_tokenizer))
        try:
            return await super().execute(prompt, label, params, max_length, hf_tokenizer, llm_engine, images)
        finally:
            _CONTEXT.reset(token)


# Names upstream looks for.
AgentExecutor = ZoomAgentExecutor
AgentInstance = ZoomAgentInstance


# --- preflight ---------------------------------------------------------------------------------


class _CharTokenizer:
    """A tokenizer stand-in for the preflight when no processor is given: one id per byte."""

    def __call__(self, text: str | list[str] | None = None, add_special_tokens: bool = False, **kwargs: Any):
        text = text[0] if isinstance(text, list) else (text or "")
        ids = list(text.encode("utf-8"))
        return {"input_ids": torch.tensor([ids]) if kwargs.get("return_tensors") == "pt" else ids}

    def decode(self, ids: Sequence[int], **kwargs: Any) -> str:
        return bytes(ids).decode("utf-8", "replace")


class _CannedEngine:
    """Stands in for upstream's vLLM engine in the preflight: replies with fixed turns."""

    def __init__(self, turns: Sequence[str], tokenizer: Any, eos: str) -> None:
        self.turns = list(turns)
        self.tokenizer = getattr(tokenizer, "tokenizer", tokenizer)
        self.eos = eos
        self.calls: list[dict[str, Any]] = []

    async def generate(self, prompt_token_ids, sampling_params, multi_modal_data=None):
        self.calls.append({"stop": list(getattr(sampling_params, "stop", []) or []), "mm": multi_modal_data})
        text = self.turns[len(self.calls) - 1]
        if not text.endswith(STOP):
            text += self.eos
        ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
        if hasattr(ids, "tolist"):
            ids = ids.tolist()[0] if ids.dim() > 1 else ids.tolist()
        out = SimpleNamespace(token_ids=list(ids), text=text, finish_reason="stop", logprobs=None)
        return SimpleNamespace(outputs=[out])


def images_per_prompt(env: Mapping[str, str] | None = None) -> int:
    """What upstream's `--data.max_images_per_prompt` must be at least: the photo + every crop."""
    return ZoomSettings.from_env(env).zoom.images_per_prompt


def preflight(env: Mapping[str, str] | None = None, processor_path: str | None = None) -> tuple[bool, str]:
    """Build the executor from the settings in `env` (default: this process's environment) and run
    one canned episode (one crop, then the right answer) on a synthetic image. With
    `processor_path` (a local model/processor folder) the real processor tokenises the prompt and
    the crop; otherwise a byte tokenizer runs the text path. No GPU, no vLLM, no judge call.
    Returns (ok, detail)."""
    try:
        settings = ZoomSettings.from_env(env)
    except (ValueError, KeyError) as exc:
        return False, f"zoom agent settings: {exc}"
    settings = replace(settings, judge=None)  # never call the judge from a preflight
    try:
        from PIL import Image, ImageDraw

        with tempfile.TemporaryDirectory(prefix="seekworld-zoom-preflight-") as tmp:
            path = Path(tmp) / "photo.png"
            img = Image.new("RGB", (640, 480), (90, 140, 200))
            ImageDraw.Draw(img).rectangle((64, 48, 320, 240), fill=(240, 220, 40))
            img.save(path)
            label = json.dumps({"country": "Spain", "region": "Galicia", "image": str(path)})
            turns = [
                zoom_turn("A yellow sign in the top left; look closer.", (0.1, 0.1, 0.5, 0.5)),
                answer_turn("The sign is in Galician.", "$Spain,Galicia$"),
            ]
            executor = AgentExecutor(settings)
            images = None
            if processor_path:
                from transformers import AutoProcessor

                tokenizer = AutoProcessor.from_pretrained(processor_path)
                content = [{"type": "image"}, {"type": "text", "text": "Where?"}]
                messages = [{"role": "user", "content": content}]
                prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
                images = [str(path)]
            else:
                tokenizer = _CharTokenizer()
                prompt = settings.markers.render("Where?")
            engine = _CannedEngine(turns, tokenizer, settings.markers.turn_end)
            params = SimpleNamespace(max_tokens=None, logprobs=None, stop=None)
            out = asyncio.run(executor.execute(prompt, label, params, 16384, tokenizer, engine, images))
    except Exception as exc:  # the preflight reports, whatever broke
        return False, f"zoom agent episode failed: {type(exc).__name__}: {exc}"
    logs = out["extra_logs"]
    problems = []
    if any(STOP not in c["stop"] for c in engine.calls):
        problems.append("the stop string </zoom> did not reach the engine")
    if logs.get("zoom_calls") != 1.0:
        problems.append(f"expected 1 crop, got {logs.get('zoom_calls')}")
    if logs.get("accuracy") != 1.0 or logs.get("format") != 1.0:
        got = f"{logs.get('accuracy')} / {logs.get('format')}"
        problems.append(f"expected accuracy 1 and format 1, got {got}")
    if processor_path and (out["mm_train_inputs"] is None or len(engine.calls[-1]["mm"]["image"]) != 2):
        problems.append("the crop did not reach the model as a second image")
    if problems:
        return False, "; ".join(problems)
    bad = [k for k, v in logs.items() if not isinstance(v, float)]
    if bad:
        return False, f"extra_logs values must be numbers: {bad}"
    return True, (
        f"zoom agent ok: 1 crop, reward {out['reward']:.2f}, max_crops {settings.zoom.max_crops} "
        f"(--data.max_images_per_prompt >= {settings.zoom.images_per_prompt}), "
        f"variant {settings.reward.variant}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m seekworld.integrations.openrlhf.zoom_agent [--processor DIR]`: the preflight, with
    this process's SEEKWORLD_* settings; prints the agent file's path (for --train.agent_func_path)."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--processor", default=None, help="local model/processor folder (optional)")
    args = parser.parse_args(argv)
    ok, detail = preflight(processor_path=args.processor)
    print(f"{'ok' if ok else 'FAIL'}: {detail}")
    print(f"agent file: {Path(__file__).resolve()}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
