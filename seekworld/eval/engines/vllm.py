"""vLLM offline batch generation (multimodal; needs a CUDA GPU and the `vllm` package).

The prompt is the processor's chat template applied to `to_messages(row, "hf")` with one image
placeholder per image (vLLM expands it), and the images go in `multi_modal_data` as PIL images,
as upstream OpenRLHF's rollout does. Requests are generated in chunks so finished samples are
written (and a crash loses at most one chunk); each request carries its own seed
(`sample_seed`). `--engine-arg name=value` pairs go to `vllm.LLM(...)`
(tensor_parallel_size, max_model_len, gpu_memory_utilization, limit_mm_per_prompt, ...).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

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

__all__ = ["CHUNK", "VLLMEngine"]

CHUNK = 256  # requests per llm.generate call: large enough to keep the GPU busy

_INSTALL = (
    "the vllm engine needs vLLM and a CUDA GPU (pip install vllm, or the 'train' extra). Without a GPU "
    "use --engine transformers, or run `vllm serve` elsewhere and use --engine openai --base-url URL/v1"
)


class VLLMEngine:
    def __init__(self, options: EngineOptions) -> None:
        try:
            import vllm
        except ImportError as exc:
            raise EngineUnavailable(_INSTALL) from exc
        from transformers import AutoProcessor

        self._vllm = vllm
        self.options = options
        check_model_reachable(options.model)  # seconds, not minutes of hub retries
        self.processor = AutoProcessor.from_pretrained(options.model)
        self.llm = vllm.LLM(model=options.model, **dict(options.engine_args))

    def _input(self, row: dict) -> dict:
        prompt = self.processor.apply_chat_template(
            to_messages(row, "hf"), tokenize=False, add_generation_prompt=True
        )
        images = load_images(row)
        return {"prompt": prompt, "multi_modal_data": {"image": images}} if images else {"prompt": prompt}

    def _sampling(self, params: GenParams, seed: int):
        return self._vllm.SamplingParams(
            n=1,
            temperature=params.temperature,
            top_p=params.top_p,
            max_tokens=params.max_new_tokens,
            seed=seed,
        )

    def generate(
        self, rows: Sequence[dict], requests: Sequence[Request], params: GenParams
    ) -> Iterator[Output]:
        for start in range(0, len(requests), CHUNK):
            chunk = requests[start : start + CHUNK]
            inputs = [self._input(rows[r.index]) for r in chunk]
            sampling = [
                self._sampling(params, sample_seed(params.seed, rows[r.index]["key"], r.sample))
                for r in chunk
            ]
            t0 = time.perf_counter()
            outs = self.llm.generate(inputs, sampling, use_tqdm=False)
            latency = (time.perf_counter() - t0) / len(chunk)  # amortised over the chunk
            for r, out in zip(chunk, outs, strict=True):
                completion = out.outputs[0]
                yield Output(
                    r.index, r.sample, completion.text, latency, finish_reason=completion.finish_reason
                )

    def stream(self, row: dict, params: GenParams) -> Iterator[str]:
        # Offline vLLM has no token stream: the whole response arrives at once.
        (out,) = self.llm.generate([self._input(row)], [self._sampling(params, params.seed)], use_tqdm=False)
        yield out.outputs[0].text

    def close(self) -> None:
        self.llm = None
