"""A tiny, offline, random Qwen2.5-VL (processor and model): for smoke runs, tests and benchmarks.

No model hub is needed. From the CLI: `seekworld train --write-tiny-model DIR`, or `model.path =
"tiny-random"` in a train config (built under the output folder). Tests import it through
`tests/helpers/tiny_qwen.py`.

    build_tiny_qwen(out_dir, *, max_pixels=None, min_pixels=None, with_model=True) -> TinyQwen
        Build and `save_pretrained` a processor (and, unless `with_model=False`, a random model)
        into `out_dir`. Returns `TinyQwen(path, processor, model)`; `AutoProcessor.from_pretrained(path)`
        and `AutoModelForImageTextToText.from_pretrained(path)` load it back, as upstream OpenRLHF does.
        `max_pixels`/`min_pixels` set the image processor's budget; None keeps Qwen2.5-VL's defaults
        (56*56 .. 28*28*16384), so the processor keeps whatever size `seekworld prepare` wrote.
    build_tokenizer() -> PreTrainedTokenizerFast
        The byte-level BPE tokenizer alone (~400 tokens, Qwen special tokens, Qwen-style chat template).
    SPECIAL_TOKENS, CHAT_TEMPLATE
        The special tokens (`<|im_start|>`, `<|image_pad|>`, ...) and the chat template string.
    count_image_pads(processor, token_ids) -> int
        Number of `<|image_pad|>` ids in a token list.
    warm_up(tiny, replies=None, *, prompts=None, images=None, steps=150) -> losses
        A few seconds of SFT so the random model writes `<think>...</think><answer>$...$</answer>`
        (without it every reward is 0 and an RL step changes nothing).
    build_warmed_up(out_dir, prompts, labels, *, images, steps, seed, max_pixels) -> TinyQwen
        `build_tiny_qwen` then `warm_up` on the run's own prompts (with their pictures) and replies
        naming the places of its own labels: what `model.path = "tiny-random"` trains from.
    data_places(labels) -> [(country, region)]
        The distinct places of a run's labels, in first-seen order.

Fixtures (in `tests/conftest.py`, session-scoped so the ~5 s build happens once per test run):

    tiny_qwen          -> TinyQwen with a model, default image budget, saved under a session tmp dir
    tiny_qwen_processor_dir -> Path of a processor-only build (no model; faster)

The model is random: it can sample `<|image_pad|>`, which breaks the forward pass. Block those ids
in generation (`bad_words_ids`) or feed canned responses.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "CHAT_TEMPLATE",
    "SPECIAL_TOKENS",
    "TinyQwen",
    "build_tiny_qwen",
    "build_tokenizer",
    "build_warmed_up",
    "count_image_pads",
    "data_places",
    "warm_up",
    "warmup_reply",
]

SPECIAL_TOKENS = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|image_pad|>",
    "<|video_pad|>",
]

ANSWER_TAGS = ("<think>", "</think>", "<answer>", "</answer>")

# Qwen2-VL's template, reduced: image parts become <|vision_start|><|image_pad|><|vision_end|>
# (the processor expands the pad to N tokens). Newlines are emitted as {{ '\n' }} so Jinja's
# whitespace control cannot eat them.
CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{%- if loop.first and message['role'] != 'system' -%}"
    "<|im_start|>system{{ '\\n' }}You are a helpful assistant.<|im_end|>{{ '\\n' }}"
    "{%- endif -%}"
    "<|im_start|>{{ message['role'] }}{{ '\\n' }}"
    "{%- if message['content'] is string -%}{{ message['content'] }}"
    "{%- else -%}{%- for part in message['content'] -%}"
    "{%- if part['type'] == 'image' or 'image' in part or 'image_url' in part -%}"
    "<|vision_start|><|image_pad|><|vision_end|>"
    "{%- elif part['type'] == 'video' or 'video' in part -%}"
    "<|vision_start|><|video_pad|><|vision_end|>"
    "{%- elif 'text' in part -%}{{ part['text'] }}"
    "{%- endif -%}{%- endfor -%}{%- endif -%}"
    "<|im_end|>{{ '\\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}<|im_start|>assistant{{ '\\n' }}{%- endif -%}"
)

_CORPUS = [
    "Where was this photo taken? Think step by step and answer with the country and the region.",
    "<think>The signs are in Japanese and cars drive on the left.</think>",
    "<answer>$Japan,Osaka$</answer> <answer>$China,Sichuan$</answer> <answer>$Brazil,Bahia$</answer>",
    "You are a helpful assistant. system user assistant",
    "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789 ,.;:!?$<>/{}[]()\"'-_=+*&%#@",
]


@dataclass
class TinyQwen:
    path: Path
    processor: Any
    model: Any | None


def build_tokenizer() -> Any:
    """Byte-level BPE trained on a few sentences, wrapped as a Qwen-like fast tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),  # every byte encodes: no unknowns
        show_progress=False,
    )
    tok.train_from_iterator(_CORPUS, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=SPECIAL_TOKENS[1:],
    )
    # The answer tags as single (ordinary, not special) tokens: a 2-layer model learns the answer
    # format in seconds, and they still decode as text.
    fast.add_tokens(list(ANSWER_TAGS))
    fast.chat_template = CHAT_TEMPLATE
    return fast


def build_tiny_qwen(
    out_dir: str | Path,
    *,
    max_pixels: int | None = None,
    min_pixels: int | None = None,
    with_model: bool = True,
) -> TinyQwen:
    """Build, save and return a tiny Qwen2.5-VL processor (and model) in `out_dir`."""
    from transformers import Qwen2_5_VLProcessor
    from transformers.models.qwen2_vl.image_processing_qwen2_vl import Qwen2VLImageProcessor
    from transformers.models.qwen2_vl.video_processing_qwen2_vl import Qwen2VLVideoProcessor

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer()
    size = {
        "shortest_edge": min_pixels if min_pixels is not None else 56 * 56,
        "longest_edge": max_pixels if max_pixels is not None else 28 * 28 * 16384,
    }
    image_processor = Qwen2VLImageProcessor(size=size)
    video_processor = Qwen2VLVideoProcessor()
    processor = Qwen2_5_VLProcessor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        video_processor=video_processor,
        chat_template=CHAT_TEMPLATE,
    )
    processor.save_pretrained(out)

    model = None
    if with_model:
        import torch
        from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

        ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
        config = Qwen2_5_VLConfig(
            text_config={
                "vocab_size": len(tokenizer),
                "hidden_size": 64,
                "intermediate_size": 128,
                "num_hidden_layers": 2,
                "num_attention_heads": 4,
                "num_key_value_heads": 2,
                "max_position_embeddings": 4096,
                # head_dim 16 -> 8 rotary frequencies split over (t, h, w)
                "rope_parameters": {"rope_type": "default", "mrope_section": [2, 3, 3], "rope_theta": 1e6},
                "bos_token_id": ids["<|endoftext|>"],
                "eos_token_id": ids["<|im_end|>"],
                "pad_token_id": ids["<|endoftext|>"],
            },
            vision_config={
                "depth": 2,
                "hidden_size": 32,
                "intermediate_size": 64,
                "num_heads": 2,
                "out_hidden_size": 64,
                "fullatt_block_indexes": [1],
            },
            image_token_id=ids["<|image_pad|>"],
            video_token_id=ids["<|video_pad|>"],
            vision_start_token_id=ids["<|vision_start|>"],
            vision_end_token_id=ids["<|vision_end|>"],
        )
        torch.manual_seed(0)
        model = Qwen2_5_VLForConditionalGeneration(config)
        model.save_pretrained(out)
    return TinyQwen(path=out, processor=processor, model=model)


def count_image_pads(processor: Any, token_ids: list[int]) -> int:
    """How many `<|image_pad|>` ids a token list holds."""
    pad = processor.tokenizer.convert_tokens_to_ids("<|image_pad|>")
    return sum(1 for t in token_ids if t == pad)


# Answer-shaped replies for `warm_up`: a random model never writes `<think>...</think><answer>...`,
# so every reward would be 0 and GRPO would have nothing to learn from.
WARMUP_PLACES = (
    ("Japan", "Hokkaido"),
    ("Brazil", "Bahia"),
    ("Russia", "Moscow"),
    ("Germany", "Bavaria"),
    ("Vietnam", "Hanoi"),
    ("Greece", "Attica"),
)
_WARMUP_THOUGHTS = ("Signs.", "Roads.")


def warmup_reply(country: str, region: str, thought: str = _WARMUP_THOUGHTS[0]) -> str:
    place = f"{country},{region}" if region else country
    return f"<think>{thought}</think><answer>${place}$</answer>"


def _encode_prompts(
    processor: Any, prompts: Sequence[list[dict[str, Any]]], images: Sequence[Any] | None
) -> list[dict[str, Any]]:
    """Per prompt: its token ids with the image pads expanded as in training, and with a picture its
    `pixel_values`, `image_grid_thw` and `mm_token_type_ids` (without these the model falls back to
    1-D positions, and the format learnt would not be the one generation sees)."""
    out = []
    for i, messages in enumerate(prompts):
        text = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        image = images[i] if images is not None else None
        if image is None:
            out.append({"ids": processor.tokenizer(text, add_special_tokens=False)["input_ids"]})
            continue
        enc = processor(text=[text], images=[image], return_tensors="pt")
        out.append(
            {
                "ids": enc["input_ids"][0].tolist(),
                "types": enc["mm_token_type_ids"][0].tolist(),
                "pixel_values": enc["pixel_values"],
                "image_grid_thw": enc["image_grid_thw"],
            }
        )
    return out


def warm_up(
    tiny: TinyQwen,
    replies: list[str] | None = None,
    *,
    prompts: Sequence[list[dict[str, Any]]] | None = None,
    images: Sequence[Any] | None = None,
    steps: int = 150,
    lr: float = 3e-3,
    batch_size: int = 8,
    seed: int = 0,
    save: bool = True,
) -> list[float]:
    """Teach the tiny model the answer format: SFT on `replies` (default: answer-shaped replies naming
    `WARMUP_PLACES`) after one of `prompts` (chat messages; default a one-line question), loss on the
    reply only. With `images` (one PIL image per prompt, whose messages hold an image block), the
    prompt carries its picture as in training; the reply is chosen independently of it, so nothing of
    the image's place is taught. A few seconds on CPU.
    Saves the model back into `tiny.path` unless `save=False`. Returns the loss per step."""
    import random

    import torch

    if tiny.model is None:
        raise ValueError("warm_up needs a TinyQwen built with a model")
    rng = random.Random(seed)
    deck: list[list[int]] = []

    def next_reply() -> list[int]:
        # Replies dealt from a shuffled deck, not drawn: each is taught equally often, so the model
        # ends the warm-up with no lean towards one place (a lean of 75/25 was seen, drawn at random,
        # and RL then collapsed onto that place within 5 steps).
        if not deck:
            deck.extend(rng.sample(reply_ids, len(reply_ids)))
        return deck.pop()

    replies = replies or [warmup_reply(c, r, t) for c, r in WARMUP_PLACES for t in _WARMUP_THOUGHTS]
    tokenizer = tiny.processor.tokenizer
    prompts = prompts or [[{"role": "user", "content": "Where was this photo taken?"}]]
    encoded = _encode_prompts(tiny.processor, prompts, images)
    reply_ids = [tokenizer(r + "<|im_end|>", add_special_tokens=False)["input_ids"] for r in replies]
    model = tiny.model
    model.train()
    torch.manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        pairs = [(rng.choice(encoded), next_reply()) for _ in range(batch_size)]
        width = max(len(p["ids"]) + len(r) for p, r in pairs)
        ids = torch.full((batch_size, width), tokenizer.pad_token_id)
        labels = torch.full((batch_size, width), -100)
        mask = torch.zeros((batch_size, width), dtype=torch.long)
        types = torch.zeros((batch_size, width), dtype=torch.long)
        for i, (prompt, reply) in enumerate(pairs):
            start, end = len(prompt["ids"]), len(prompt["ids"]) + len(reply)
            ids[i, :end] = torch.tensor(prompt["ids"] + reply)
            mask[i, :end] = 1
            labels[i, start:end] = torch.tensor(reply)
            if "types" in prompt:
                types[i, :start] = torch.tensor(prompt["types"])
        pictured = [p for p, _ in pairs if "pixel_values" in p]
        vision = {}
        if pictured:
            vision = {
                "pixel_values": torch.cat([p["pixel_values"] for p in pictured]),
                "image_grid_thw": torch.cat([p["image_grid_thw"] for p in pictured]),
                "mm_token_type_ids": types,
            }
        loss = model(input_ids=ids, attention_mask=mask, labels=labels, **vision).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    model.eval()
    if save:
        model.save_pretrained(tiny.path)
    return losses


def data_places(labels: Iterable[Any]) -> list[tuple[str, str]]:
    """The distinct (country, first region) of `labels`, spelt as the first label naming each place
    spells it, in first-seen order (two spellings of one gazetteer place count once). A label that
    does not parse is skipped (preflight reports it); a country-only label gives region ""."""
    from seekworld.geo.label import LabelError, parse_label

    seen: dict[tuple[str, str], tuple[str, str]] = {}
    for label in labels:
        try:
            gold = parse_label(label)
        except (LabelError, ValueError):
            continue
        region = gold.regions[0] if gold.regions else ""
        key = (gold.country_id or gold.country.casefold(), gold.place_id or region.casefold())
        seen.setdefault(key, (gold.country, region))
    return list(seen.values())


def text_only(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Chat messages with their text blocks joined into one string each (image blocks dropped)."""
    out = []
    for m in messages:
        content = m["content"]
        if not isinstance(content, str):
            content = "".join(b.get("text") or "" for b in content)
        out.append({"role": m["role"], "content": content})
    return out


def build_warmed_up(
    out_dir: str | Path,
    prompts: Sequence[list[dict[str, Any]]],
    labels: Iterable[Any],
    *,
    images: Sequence[Any] | None = None,
    steps: int,
    seed: int = 0,
    max_pixels: int | None = None,
) -> TinyQwen:
    """A tiny model that writes the answer format naming the run's own places, saved in `out_dir`.

    The replies name each place of `labels` equally often (`data_places`), after the run's own
    `prompts` and, given `images` (one per prompt), their pictures: a 2-layer model taught the
    format after text-only prompts kept it in 0.4-0.8 of its answers once image tokens came first
    (0.98 with the pictures). The reply is chosen independently of the picture, so the model can only
    guess (about 1/N right with N places) and RL must learn to look; the price is that the model
    learns not to look (docs/benchmarks.md, "Learning canary"). Places absent from the data would
    cost RL steps to unlearn."""
    tiny = build_tiny_qwen(out_dir, max_pixels=max_pixels)
    # One fixed thought: the place is the reply's only choice. Two thoughts made a second branch
    # whose letters the place names share ("Roads." vs "japan": R-o-a-d, j-a-pan), and the first RL
    # updates crossed them ("<think>Roapan,hokk...").
    replies = [warmup_reply(c, r, _WARMUP_THOUGHTS[0]) for c, r in data_places(labels)]
    if steps > 0:
        warm_up(
            tiny,
            replies or None,
            prompts=list(prompts) if images is not None else [text_only(p) for p in prompts],
            images=images,
            steps=steps,
            lr=5e-3,
            batch_size=4,
            seed=seed,
        )
    return tiny
