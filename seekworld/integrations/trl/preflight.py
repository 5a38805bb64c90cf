"""What a TRL run needs before it starts (`seekworld train --backend trl [--dry-run]`): the common
checks (data, model, outputs, logging, the judge: `seekworld.train.preflight.common`), the data in
TRL's VLM format, the reward probed through the very function the trainer calls, the zoom tool
checked with TRL's own functions, packages, `GRPOConfig`, the GPU fit and the hub push.
"""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from seekworld.integrations.trl.backend import (
    TINY_MAX_PIXELS,
    TINY_MODEL,
    cap_pixels,
    grpo_arguments,
    judge_config,
    resolve_device,
    reward_config,
    tiny_model_dir,
    world_size,
)
from seekworld.integrations.trl.data import PreparedDataError, load_prompt_dataset
from seekworld.integrations.trl.hub import check_hub
from seekworld.integrations.trl.rewards import close_judge, reward_function
from seekworld.integrations.trl.zoom import (
    TOOL_NAME,
    ZoomEnvironment,
    ZoomTemplateError,
    apply_tool_template,
    call_box_text,
    tool_rounds,
    zoom_reward_function,
)
from seekworld.io.images import open_rgb
from seekworld.rewards.variants import RewardConfig
from seekworld.train.config import ConfigError, TrainConfig, zoom_config
from seekworld.train.gpu_support import check_gpu_fit, probe
from seekworld.train.preflight.common import (
    CheckResult,
    check_data,
    check_eval_data,
    check_judge,
    check_logging,
    check_model,
    check_outputs,
    first_rows,
    gold_answer,
)
from seekworld.train.tiny_qwen import build_tiny_qwen
from seekworld.zoom.protocol import ZoomConfig

__all__ = ["check_trl", "check_zoom", "check_zoom_tool"]


def _probe_reward(config: TrainConfig, func: Any) -> CheckResult:
    """Gold answers must out-score junk through the reward function the trainer will call."""

    rows = first_rows(config, 4)
    if rows:
        labels = [r[config["data.label_key"]] for r in rows]
        good = [[{"role": "assistant", "content": gold_answer(x)}] for x in labels]
        bad = [[{"role": "assistant", "content": "I cannot tell."}] for _ in labels]
        total = {}
        for kind, completions in (("gold", good), ("junk", bad)):
            values = func(completions=completions, label=labels)
            total[kind] = asyncio.run(values) if inspect.isawaitable(values) else values
        ok = all(g > j and math.isfinite(g) for g, j in zip(total["gold"], total["junk"], strict=True))
        parts = ", ".join(reward_config(config).components)
        detail = (
            f"in-process {config['reward.variant']} ({parts}): gold answers "
            f"{min(total['gold']):.2f}..{max(total['gold']):.2f}, junk {max(total['junk']):.2f}"
        )
        return CheckResult("reward", ok, detail if ok else detail + ": gold must beat junk")
    return CheckResult("reward", False, "no row with a usable label to probe the reward")


def _zoom_processor(config: TrainConfig, tmp: str) -> tuple[Any, str]:
    """The run's processor for the zoom checks, and where it came from. No download: a hub id not
    in the local cache (and `tiny-random`) is checked on the tiny Qwen2.5-VL tokenizer instead; a
    local folder that does not load raises (the zoom check fails, as the run would)."""
    from transformers import AutoProcessor

    path = config["model.path"]
    why = ""
    if path != TINY_MODEL:
        try:
            return cap_pixels(AutoProcessor.from_pretrained(path, local_files_only=True), config), path
        except (OSError, ValueError):
            if Path(path).is_dir():
                raise  # a model folder that does not load would fail the run too: the check fails
            why = f" ({path} is not available locally)"
    tiny = build_tiny_qwen(Path(tmp) / "tiny", max_pixels=TINY_MAX_PIXELS, with_model=False).processor
    where = "the tiny Qwen2.5-VL tokenizer" + why
    return cap_pixels(tiny, config), where


def check_zoom(config: TrainConfig, zoom: Any) -> CheckResult:
    """The zoom tool on TRL (`seekworld.integrations.trl.zoom.preflight`): template, parser, tool,
    crop tokens, and the zoom reward on the data's first labels."""
    import tempfile

    rows = first_rows(config, 4)
    if not rows:  # as the reward probe of a run without zoom
        return CheckResult("zoom", False, "no row with a usable label to probe the zoom reward")
    probes = [(r[config["data.label_key"]], gold_answer(r[config["data.label_key"]])) for r in rows]
    image = None
    for row in rows:
        try:
            image = open_rgb(row[config["data.image_key"]][0])
            break
        except (OSError, ValueError, KeyError, IndexError, TypeError):
            continue
    try:
        with tempfile.TemporaryDirectory(prefix="seekworld-zoom-check-") as tmp:
            processor, where = _zoom_processor(config, tmp)
            ok, detail = check_zoom_tool(processor, zoom, reward_config(config), probes, image)
    except Exception as exc:  # the preflight reports whatever broke
        return CheckResult("zoom", False, f"zoom tool check failed: {type(exc).__name__}: {exc}")
    detail = f"{detail} (template checked on {where})"
    # The OpenRLHF agent's prompt teaches the <zoom> tag, which this backend never carries out.
    tag_prompt = any(
        "<zoom>[" in json.dumps(r.get(config["data.input_key"]), ensure_ascii=False) for r in rows
    )
    if ok and tag_prompt:
        detail += (
            "\nthe data's prompt explains the <zoom> tag, not the zoom tool call: prepare it with "
            "`seekworld traces prompt-template --tool-call` as --prompt-template"
        )
    return CheckResult("zoom", ok, detail, warning=ok and tag_prompt)


def check_trl(config: TrainConfig, sample: int | None = None) -> list[CheckResult]:
    """Data, reward probe, packages, GRPOConfig: what the TRL run needs before it starts."""
    results = [r for r in check_data(config, sample) if r.name != "reward"]
    try:
        dataset = load_prompt_dataset(config["data.prompt_data"], config["data.max_samples"])
        results.append(CheckResult("trl data", True, f"{len(dataset)} prompts in TRL's VLM format"))
    except PreparedDataError as exc:
        results.append(CheckResult("trl data", False, str(exc)))
    results += check_eval_data(config, sample)

    reward = reward_config(config)
    if reward.needs_judge:
        judged = check_judge(config)
        if judged is not None:
            results.append(judged)
    zoom = zoom_config(config)
    if zoom is None:
        func = reward_function(reward, judge=judge_config(config))
        try:
            results.append(_probe_reward(config, func))
        finally:
            close_judge(func)
    else:
        results.append(check_zoom(config, zoom))

    missing = [
        m
        for m in ("trl", "transformers", "torch", "datasets", "accelerate")
        if not importlib.util.find_spec(m)
    ]
    if missing:
        results.append(
            CheckResult("packages", False, f"missing {', '.join(missing)}: pip install 'seekworld[trl]'")
        )
        return results
    import trl
    from trl import GRPOConfig

    device = resolve_device(config)
    try:
        args = GRPOConfig(**grpo_arguments(config, device, world_size()))
    except (ValueError, TypeError, ConfigError) as exc:
        results.append(CheckResult("GRPOConfig", False, f"{type(exc).__name__}: {exc}"))
    else:
        gen = "vLLM " + args.vllm_mode if args.use_vllm else "transformers generation"
        results.append(
            CheckResult(
                "GRPOConfig",
                True,
                f"trl {trl.__version__}, {device}, {gen}; {args.num_generations} samples/prompt, "
                f"scale_rewards={args.scale_rewards}, loss_type={args.loss_type}, beta={args.beta}",
            )
        )
    if config["trl.vllm"] in ("colocate", "server") and not importlib.util.find_spec("vllm"):
        results.append(CheckResult("vllm", False, f"trl.vllm={config['trl.vllm']} but vLLM is not installed"))
    model = config["model.path"]
    if model == TINY_MODEL:
        results.append(
            CheckResult("model", True, f"tiny random Qwen2.5-VL, built in {tiny_model_dir(config)}")
        )
    else:
        results.append(check_model(config))
    results.append(check_outputs(config))
    results.append(check_logging(config))
    results.append(_check_gpu_fit(config, device))

    hub = check_hub(config)
    if hub is not None:
        results.append(CheckResult("hub", *hub))
    return results


def _check_gpu_fit(config: TrainConfig, device: str) -> CheckResult:
    fit = check_gpu_fit(config, *(probe() if device == "cuda" else (None, False)), device=device)
    return CheckResult("gpu fit", fit.ok, fit.detail, fit.warning)


_PROBE_BOX = [0.1, 0.1, 0.5, 0.5]
_PROBE_CALL = {"name": TOOL_NAME, "arguments": {"box": _PROBE_BOX}}
# A model turn that calls the tool, as the policy would write it and as TRL's history holds it.
_CALLED = {
    "role": "assistant",
    "content": "<think>A sign; look closer.</think>",
    "tool_calls": [{"type": "function", "function": _PROBE_CALL}],
}


def _probe_image() -> Any:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (448, 336), (90, 140, 200))
    ImageDraw.Draw(image).rectangle((44, 34, 224, 168), fill=(240, 220, 40))
    return image


def _tool_problem(processor: Any, env: ZoomEnvironment) -> str | None:
    """Why TRL could not run the tool with this template (None: it can): TRL accepts the template,
    a generated call parses back into a `zoom` call, the tool's signature reaches the prompt."""
    from trl.chat_template_utils import (
        is_chat_template_prefix_preserving,
        parse_response,
        supports_tool_calling,
    )

    try:
        apply_tool_template(processor)
    except ZoomTemplateError as exc:
        return str(exc)
    if not supports_tool_calling(processor):
        return "TRL rejects the tool template (supports_tool_calling is False)"
    if not is_chat_template_prefix_preserving(processor):
        return "the tool template is not prefix-preserving (TRL's multi-turn check)"
    tokenizer = processor.tokenizer
    turn = f"{_CALLED['content']}\n<tool_call>\n{json.dumps(_PROBE_CALL)}\n</tool_call><|im_end|>"
    prefix = tokenizer("<|im_start|>assistant\n", add_special_tokens=False)["input_ids"]
    ids = tokenizer(turn, add_special_tokens=False)["input_ids"]
    parsed = parse_response(tokenizer, ids, prefix=prefix, tools=[env.zoom])
    calls = parsed.get("tool_calls") or []
    if len(calls) != 1 or call_box_text(calls[0]) != json.dumps(_PROBE_BOX):
        return f"TRL's parser did not read the zoom call back (got {parsed!r:.200})"
    user = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Where?"}]}]
    rendered = processor.apply_chat_template(
        user, tools=[env.zoom], tokenize=False, add_generation_prompt=True
    )
    if '"name": "zoom"' not in rendered:
        return "the tool's signature does not reach the prompt"
    return None


def _crop_tokens(processor: Any, result: list[dict[str, Any]]) -> int:
    """The image tokens of the crop in the tokens TRL appends after a call (its
    `_get_tool_suffix_ids`, rendered the same way)."""
    from trl.data_utils import prepare_multimodal_messages

    history = [
        {"role": "user", "content": "dummy"},
        _CALLED,
        {"role": "tool", "name": TOOL_NAME, "content": result},
    ]
    ids = processor.apply_chat_template(
        prepare_multimodal_messages(history), tokenize=True, add_generation_prompt=True, return_dict=False
    )[0]
    pad = processor.tokenizer.convert_tokens_to_ids("<|image_pad|>")
    return sum(1 for t in ids if t == pad)


def _probe_zoom_reward(
    zoom: ZoomConfig, reward: RewardConfig, probes: Sequence[tuple[Any, str]], image: Any, result: Any
) -> tuple[float, float]:
    """(worst zoom-then-right-answer total, best junk total) through the reward function."""
    func = zoom_reward_function(reward, zoom)
    gold_turns = [_CALLED, {"role": "tool", "name": TOOL_NAME, "content": result}]
    worst_gold, best_junk = math.inf, -math.inf
    for label, right in probes:
        gold = [*gold_turns, {"role": "assistant", "content": right}]
        for completion, kind in ((gold, "gold"), ([{"role": "assistant", "content": "?"}], "junk")):
            env = ZoomEnvironment(zoom)
            env.reset(images=[image])
            total = func(completions=[completion], label=[label], environments=[env])[0]
            if kind == "gold":
                worst_gold = min(worst_gold, total)
            else:
                best_junk = max(best_junk, total)
    return worst_gold, best_junk


def check_zoom_tool(
    processor: Any,
    zoom: ZoomConfig,
    reward: RewardConfig,
    probes: Sequence[tuple[Any, str]] = (),
    image: Any = None,
) -> tuple[bool, str]:
    """What a zoom run on TRL needs, checked with TRL's own functions and no model: the shipped
    template applies to `processor`; TRL accepts it for tools (`supports_tool_calling`) and for
    multi-turn (`is_chat_template_prefix_preserving`); a generated tool call parses back into a
    `zoom` call (TRL's `parse_response`); the tool renders in the prompt; it returns an image for a
    valid box and a text error for a bad one; the crop's tokens reach the model (TRL's tool suffix:
    the processor expands the crop into `<|image_pad|>` tokens); and through the reward function
    a zoom-then-answer transcript out-scores junk for each (label, right answer turn) of `probes`.
    Returns (ok, detail)."""
    image = _probe_image() if image is None else image
    env = ZoomEnvironment(zoom)
    env.reset(images=[image])
    problem = _tool_problem(processor, env)
    if problem is not None:
        return False, problem
    result = env.zoom(_PROBE_BOX)
    if not isinstance(result, list) or result[0].get("type") != "image":
        return False, f"the tool returned no image for a valid box: {result!r:.200}"
    if not isinstance(env.zoom([0.5, 0.5, 0.1, 0.1]), str):
        return False, "the tool returned no error text for an inverted box"
    pads = _crop_tokens(processor, result)
    if pads < 1:
        return False, "the crop did not become image tokens in the tool message"
    worst_gold, best_junk = _probe_zoom_reward(zoom, reward, probes, image, result)
    if probes and not (math.isfinite(worst_gold) and worst_gold > best_junk):
        return (
            False,
            f"a zoom-then-right-answer transcript ({worst_gold:.2f}) must beat junk ({best_junk:.2f})",
        )
    probe = f"; zoom + right answer {worst_gold:.2f} vs junk {best_junk:.2f}" if probes else ""
    return True, (
        f"zoom tool ok: TRL accepts the shipped template; a call parses, a crop becomes {pads} image tokens, "
        f"a bad box an error text; max_crops {zoom.max_crops}, "
        f"max_tool_calling_iterations {tool_rounds(zoom)}{probe}"
    )
