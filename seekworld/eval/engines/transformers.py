"""Any `AutoModelForImageTextToText` checkpoint with its `AutoProcessor`, on CPU or GPU.

The prompt is the processor's chat template applied to `to_messages(row, "hf")` (what upstream
OpenRLHF does for training). Greedy decoding batches `concurrency` rows (left padding); sampling
runs one request at a time with its own seed (`sample_seed`), so a sample does not depend on the
batch it landed in or on where a resumed run started. Image and vision marker tokens are blocked
in generation: a real model never emits them, and a random test model that did would break the
forward pass. `--engine-arg name=value` pairs go to `from_pretrained` (e.g. attn_implementation).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from threading import Thread

from seekworld.eval.engines import (
    EngineOptions,
    EngineUnavailable,
    GenParams,
    Output,
    Request,
    check_model_reachable,
    sample_seed,
)
from seekworld.eval.rows import load_images, to_messages

__all__ = ["TransformersEngine"]

_MARKER_TOKENS = ("<|vision_start|>", "<|vision_end|>", "<|image_pad|>", "<|video_pad|>")


@contextmanager
def _no_loading_bars() -> Iterator[None]:
    """transformers' (and the hub's) progress bars off while loading, as they were afterwards."""
    from transformers.utils import logging as hf_logging

    was_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_on:
            hf_logging.enable_progress_bar()


class TransformersEngine:
    def __init__(self, options: EngineOptions) -> None:
        try:
            import torch
            from transformers import AutoModelForImageTextToText, AutoProcessor
        except ImportError as exc:
            raise EngineUnavailable(
                "the transformers engine needs torch and transformers: pip install 'seekworld[eval]' torch"
            ) from exc
        self._torch = torch
        self.options = options
        self.device = options.device or ("cuda" if torch.cuda.is_available() else "cpu")
        if options.dtype:
            dtype = getattr(torch, options.dtype)
        else:
            dtype = torch.bfloat16 if self.device.startswith("cuda") else torch.float32
        check_model_reachable(options.model)  # seconds, not minutes of hub retries
        kwargs = dict(options.engine_args)
        with nullcontext() if options.progress else _no_loading_bars():
            self.processor = AutoProcessor.from_pretrained(options.model)
            self.model = AutoModelForImageTextToText.from_pretrained(options.model, dtype=dtype, **kwargs)
        self.tokenizer = getattr(self.processor, "tokenizer", self.processor)
        if "device_map" in kwargs:  # placed (maybe sharded) by accelerate: inputs go to its first device
            self.device = str(self.model.device)
        else:
            self.model.to(self.device)
        self.model.eval()
        self.bad_words_ids = self._blocked_ids()

    def _blocked_ids(self) -> list[list[int]] | None:
        names = set(_MARKER_TOKENS)
        for attr in ("image_token", "video_token"):
            if isinstance(getattr(self.processor, attr, None), str):
                names.add(getattr(self.processor, attr))
        vocab = self.tokenizer.get_vocab()
        ids = sorted({vocab[n] for n in names if n in vocab})
        return [[i] for i in ids] or None

    def _prompt(self, row: dict) -> str:
        return self.processor.apply_chat_template(
            to_messages(row, "hf"), tokenize=False, add_generation_prompt=True
        )

    def _inputs(self, rows: Sequence[dict]):
        texts = [self._prompt(row) for row in rows]
        images = [load_images(row) for row in rows]
        self.tokenizer.padding_side = "left"  # generation continues from the right end
        kwargs = {"images": images} if any(images) else {}
        return self.processor(text=texts, return_tensors="pt", padding=True, **kwargs).to(self.device)

    def _gen_kwargs(self, params: GenParams, streamer=None) -> dict:
        kwargs = {
            "max_new_tokens": params.max_new_tokens,
            "bad_words_ids": self.bad_words_ids,
            "pad_token_id": self.tokenizer.pad_token_id,
        }
        if params.temperature > 0:
            kwargs.update(do_sample=True, temperature=params.temperature, top_p=params.top_p)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if streamer is not None:
            kwargs["streamer"] = streamer
        return kwargs

    def _run(self, rows: Sequence[dict], params: GenParams) -> list[tuple[str, str]]:
        inputs = self._inputs(rows)
        with self._torch.inference_mode():
            out = self.model.generate(**inputs, **self._gen_kwargs(params))
        new = out[:, inputs["input_ids"].shape[1] :]
        eos = self.model.generation_config.eos_token_id
        eos = set(eos if isinstance(eos, list) else [eos])
        results = []
        for ids in new.tolist():
            ended = any(t in eos for t in ids)
            text = self.tokenizer.decode(ids, skip_special_tokens=True)
            results.append((text, "stop" if ended or len(ids) < params.max_new_tokens else "length"))
        return results

    def generate(
        self, rows: Sequence[dict], requests: Sequence[Request], params: GenParams
    ) -> Iterator[Output]:
        # Greedy: batch rows. Sampling: one request at a time, seeded per (row, sample).
        size = max(1, self.options.concurrency) if params.temperature == 0 else 1
        for start in range(0, len(requests), size):
            chunk = requests[start : start + size]
            if params.temperature > 0:
                self._torch.manual_seed(
                    sample_seed(params.seed, rows[chunk[0].index]["key"], chunk[0].sample)
                )
            t0 = time.perf_counter()
            results = self._run([rows[r.index] for r in chunk], params)
            latency = (time.perf_counter() - t0) / len(chunk)  # a batch's time, shared out
            for r, (text, finish) in zip(chunk, results, strict=True):
                yield Output(r.index, r.sample, text, latency, finish_reason=finish)

    def stream(self, row: dict, params: GenParams) -> Iterator[str]:
        from transformers import TextIteratorStreamer

        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        inputs = self._inputs([row])

        def work() -> None:
            with self._torch.inference_mode():
                self.model.generate(**inputs, **self._gen_kwargs(params, streamer))

        thread = Thread(target=work, daemon=True)
        thread.start()
        yield from streamer
        thread.join()

    def close(self) -> None:
        self.model = None
