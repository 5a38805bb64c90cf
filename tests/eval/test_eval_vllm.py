"""The vllm engine's wiring, with a stand-in `vllm` module (vLLM itself needs a GPU)."""

import sys
import types
from dataclasses import dataclass
from typing import ClassVar

import pytest

from seekworld.eval.engines import (
    EngineOptions,
    EngineUnavailable,
    GenParams,
    Request,
    create_engine,
    sample_seed,
)
from seekworld.eval.rows import load_rows

pytestmark = pytest.mark.slow  # the processor needs transformers


@dataclass
class FakeSamplingParams:
    n: int
    temperature: float
    top_p: float
    max_tokens: int
    seed: int


class FakeLLM:
    """Records what the engine passes; answers each prompt with a fixed text."""

    instances: ClassVar[list] = []

    def __init__(self, **kwargs):
        self.kwargs = kwargs
        self.calls = []
        FakeLLM.instances.append(self)

    def generate(self, inputs, sampling, use_tqdm=True):
        self.calls.append((inputs, sampling))
        out = types.SimpleNamespace(
            text="<think>t</think><answer>China, Sichuan</answer>", finish_reason="stop"
        )
        return [types.SimpleNamespace(outputs=[out]) for _ in inputs]


@pytest.fixture
def fake_vllm(monkeypatch):
    module = types.ModuleType("vllm")
    module.LLM, module.SamplingParams = FakeLLM, FakeSamplingParams
    monkeypatch.setitem(sys.modules, "vllm", module)
    FakeLLM.instances.clear()
    return module


def test_vllm_inputs_are_the_training_prompt_with_images(fake_vllm, tiny_qwen_processor_dir, write_rows):
    path = write_rows("g", [{"label": "$china,sichuan$", "id": "a"}, {"label": "$japan,osaka$", "id": "b"}])
    rows = load_rows([path])
    options = EngineOptions(
        engine="vllm", model=str(tiny_qwen_processor_dir), engine_args=(("tensor_parallel_size", 2),)
    )
    engine = create_engine(options)
    params = GenParams(temperature=0.6, max_new_tokens=32, seed=5)
    outs = list(engine.generate(rows, [Request(0, 0), Request(0, 1), Request(1, 0)], params))
    llm = FakeLLM.instances[0]
    assert llm.kwargs == {"model": str(tiny_qwen_processor_dir), "tensor_parallel_size": 2}
    ((inputs, sampling),) = llm.calls
    assert len(inputs) == 3
    first = inputs[0]
    # One placeholder per image (vLLM expands it), the system prompt, the generation prompt.
    assert first["prompt"].count("<|image_pad|>") == 1
    assert first["prompt"].startswith("<|im_start|>system\n" + rows[0]["prompt"][0]["content"])
    assert first["prompt"].endswith("<|im_start|>assistant\n")
    (image,) = first["multi_modal_data"]["image"]
    assert image.mode == "RGB" and image.size == (56, 56)
    assert [s.seed for s in sampling] == [
        sample_seed(5, "g/a", 0),
        sample_seed(5, "g/a", 1),
        sample_seed(5, "g/b", 0),
    ]
    assert len({s.seed for s in sampling}) == 3
    assert {(s.temperature, s.max_tokens, s.n) for s in sampling} == {(0.6, 32, 1)}
    assert [(o.index, o.sample, o.finish_reason) for o in outs] == [
        (0, 0, "stop"),
        (0, 1, "stop"),
        (1, 0, "stop"),
    ]


def test_without_vllm_the_message_says_what_to_do(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)  # import fails as if not installed
    with pytest.raises(EngineUnavailable, match=r"needs vLLM and a CUDA GPU.*--engine transformers"):
        create_engine(EngineOptions(engine="vllm", model="m"))


def test_unknown_engine_suggests_a_name():
    with pytest.raises(KeyError, match="Did you mean: vllm"):
        create_engine(EngineOptions(engine="vlm", model="m"))
