"""Upstream OpenRLHF's own training path on CPU, as far as it runs without vLLM, Ray and DeepSpeed.

What runs (all upstream 0.11.2 code, driven by the args upstream's own parser builds from the
command `seekworld train` emits):
1. `PromptDataset` reads rows written by `seekworld prepare` (chat template of the tiny Qwen2.5-VL).
2. `SingleTurnAgentExecutor.execute` tokenises each prompt with its image through the processor,
   "generates" (a canned-response engine stands in for vLLM) and fetches the reward from our real
   `seekworld serve`, started by `seekworld.train.launch`.
3. `SamplesGenerator._process_response_into_experience` and `RemoteExperienceMaker.split_rollout_samples`
   turn the outputs into batched `Experience`s (pixel values included).
4. Upstream `Actor` (loaded from the saved tiny model folder) computes the old log-probs;
   `RemoteExperienceMaker.compute_advantages_and_returns` turns our rewards into reinforce_baseline
   advantages.
5. Upstream `Actor` forward + upstream `PolicyLoss` + backward, then one optimizer step (plain SGD
   here; DeepSpeed's optimizer and ZeRO-3 are not run).

Not reached: vLLM generation, Ray actors and placement, DeepSpeed (ZeRO-3, its optimizer,
checkpoints), weight sync to vLLM, the PPO trainer loop.

TEST STAND-INS: upstream imports flash_attn (ring attention only), deepspeed (ZeRO-3 leaf marking
for MoE only), ray and vllm (actor groups and engines) at module top of the modules used here.
None of them is installable on a CPU machine, and none is called on the path above; when missing,
they are replaced during the import only by modules whose every attribute raises if used, then
removed from sys.modules again. Where the real packages exist, they are used.
"""

from __future__ import annotations

import asyncio
import importlib.machinery
import importlib.util
import subprocess
import sys
import types
from pathlib import Path

import pytest
from helpers.prepare_data import PREPARE_SAMPLE

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
N_SAMPLES = 4  # per prompt; reinforce_baseline compares them
# find_spec, not import: collecting this file stays cheap (torch is imported by the test itself).
for _module, _why in {
    "torch": "the test extra",
    "transformers": "the test extra",
    "peft": "upstream's Actor imports peft (pip install peft)",
    "openrlhf": "pip install --no-deps openrlhf==0.11.2",
    "gunicorn": "the reward server needs the serve extra",
}.items():
    if importlib.util.find_spec(_module) is None:
        pytest.skip(f"needs {_module}: {_why}", allow_module_level=True)


class _StandIn(types.ModuleType):
    """TEST STAND-IN for a package upstream imports at module top but the tested path never calls."""

    def __init__(self, name: str) -> None:
        super().__init__(name, f"TEST STAND-IN for {name}: not installed here; any use raises")
        self.__spec__ = importlib.machinery.ModuleSpec(name, None, is_package=True)
        self.__path__: list[str] = []

    def __getattr__(self, attr: str):
        if attr.startswith("__"):
            raise AttributeError(attr)

        def unavailable(*args, **kwargs):
            raise RuntimeError(
                f"test stand-in {self.__name__}.{attr} was used: this path needs the real package"
            )

        unavailable.__name__ = attr
        return unavailable


STAND_INS = {
    "flash_attn": [
        "flash_attn",
        "flash_attn.bert_padding",
        "flash_attn.utils",
        "flash_attn.utils.distributed",
    ],
    "deepspeed": ["deepspeed"],
    "ray": ["ray", "ray.util", "ray.util.placement_group", "ray.util.scheduling_strategies"],
    "vllm": ["vllm"],
}
# Upstream's Ray launcher and vLLM engine modules build Ray actors at import: stand in for them too
# when Ray or vLLM is missing.
UPSTREAM_RAY_MODULES = [
    "openrlhf.trainer.ray",
    "openrlhf.trainer.ray.launcher",
    "openrlhf.trainer.ray.vllm_engine",
]


@pytest.fixture(scope="module")
def upstream():
    """Upstream's classes, imported with stand-ins for the missing GPU-only packages."""
    missing = [pkg for pkg in STAND_INS if importlib.util.find_spec(pkg) is None]
    names = [n for pkg in missing for n in STAND_INS[pkg]]
    if "ray" in missing or "vllm" in missing:
        names += UPSTREAM_RAY_MODULES
    before = set(sys.modules)
    sys.modules.update({n: _StandIn(n) for n in names})
    try:
        from openrlhf.datasets.prompts_dataset import PromptDataset
        from openrlhf.models.actor import Actor
        from openrlhf.models.loss import PolicyLoss
        from openrlhf.trainer.ppo_utils.experience_maker import RemoteExperienceMaker
        from openrlhf.trainer.ppo_utils.kl_controller import FixedKLController
        from openrlhf.trainer.ppo_utils.samples_generator import SamplesGenerator
        from openrlhf.utils.agent import SingleTurnAgentExecutor
        from openrlhf.utils.utils import get_tokenizer
        from openrlhf.utils.vlm_utils import merge_mm_train_inputs
    finally:
        # Nothing imported under a stand-in stays visible to other tests.
        for name in set(sys.modules) - before:
            if name in names or name.startswith(("openrlhf.models", "openrlhf.trainer")):
                del sys.modules[name]
    return types.SimpleNamespace(
        PromptDataset=PromptDataset,
        Actor=Actor,
        PolicyLoss=PolicyLoss,
        RemoteExperienceMaker=RemoteExperienceMaker,
        FixedKLController=FixedKLController,
        SamplesGenerator=SamplesGenerator,
        SingleTurnAgentExecutor=SingleTurnAgentExecutor,
        get_tokenizer=get_tokenizer,
        merge_mm_train_inputs=merge_mm_train_inputs,
    )


@pytest.fixture(scope="module")
def setup(tmp_path_factory, upstream):
    """Prepared sample rows, a tiny Qwen2.5-VL on disk, our reward server, upstream's args."""
    from helpers.tiny_qwen import build_tiny_qwen

    from seekworld.train.command import build_command
    from seekworld.train.config import load_config
    from seekworld.train.launch import Services
    from seekworld.train.places import with_monitor_places
    from seekworld.train.upstream_flags import check_with_upstream_parser

    root = tmp_path_factory.mktemp("upstream-cpu")
    subprocess.run(
        [*PREPARE_SAMPLE, "--output", str(root / "data"), "--no-progress", "--max-pixels", str(112 * 112)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    model = build_tiny_qwen(root / "model", max_pixels=112 * 112)
    config = load_config(
        overrides=[
            f"model.path={model.path}",
            f"data.prompt_data={root / 'data' / 'train.jsonl'}",
            f"rollout.n_samples_per_prompt={N_SAMPLES}",
            "rollout.batch_size=2",
            "train.batch_size=8",
            "cluster.gpus_per_node=1",
            "reward.workers=1",
            f"data.eval_data={root / 'data' / 'train.jsonl'}",
        ]
    )
    config = with_monitor_places(config)  # as `seekworld train` does: the server logs accuracy/<id>
    services = Services(config, root / "logs")
    services.start()
    try:
        argv = build_command(config, reward_url=services.reward_url)
        check = check_with_upstream_parser(argv[3:])
        assert check.ok, check.detail
        yield types.SimpleNamespace(
            config=config, args=check.args, model_path=str(model.path), services=services
        )
    finally:
        services.stop()


def canned_responses(label: str) -> list[str]:
    from seekworld.geo.label import parse_label

    gold = parse_label(label)
    right = f"<think>Road signs and plants.</think><answer>${gold.country},{gold.regions[0]}$</answer>"
    return [
        right,  # format + accuracy: 1.5
        "<think>Looks warm.</think><answer>$Japan,Osaka$</answer>",  # format only (wrong place): 0.5
        "No idea.",  # 0
        right.replace("<think>Road signs and plants.</think>", ""),  # right place, bad format: 1.0
    ]


class CannedEngine:
    """Stands in for a vLLM engine: `generate` returns the next canned response for the prompt."""

    def __init__(self, tokenizer, responses: list[str]) -> None:
        self.tokenizer, self.responses = tokenizer, list(responses)
        self.im_end = tokenizer.convert_tokens_to_ids("<|im_end|>")

    async def generate(self, prompt_token_ids, sampling_params, multi_modal_data=None):
        assert multi_modal_data and len(multi_modal_data["image"]) == 1  # the row's image, loaded
        text = self.responses.pop(0)
        ids = self.tokenizer(text, add_special_tokens=False)["input_ids"] + [self.im_end]
        out = types.SimpleNamespace(token_ids=ids, text=text, finish_reason="stop", logprobs=None)
        return types.SimpleNamespace(outputs=[out])


def test_upstream_training_step_on_cpu(upstream, setup):
    import torch

    args = setup.args
    strategy = types.SimpleNamespace(args=args, is_rank_0=lambda: True, print=print)
    processor = upstream.get_tokenizer(setup.model_path, None, "left")
    assert hasattr(processor, "image_processor")  # upstream's VLM path

    # 1. Prompts as upstream reads them (the keys come from our flags).
    import datasets

    rows = datasets.load_dataset("json", data_files=args.data.prompt_dataset, split="train")
    dataset = upstream.PromptDataset(rows.select(range(2)), processor, strategy)
    _, prompt0, _, images0 = dataset[0]
    assert prompt0.count("<|image_pad|>") == 1 and prompt0.endswith("<|im_start|>assistant\n")
    assert images0 and Path(images0[0]).is_file()

    # 2. Rollout: upstream's executor, canned responses, rewards from our server.
    executor = upstream.SingleTurnAgentExecutor(remote_rm_url=args.reward.remote_url)
    sampling = types.SimpleNamespace(max_tokens=args.rollout.max_new_tokens, logprobs=None)

    async def rollout():
        jobs = []
        for i in range(len(dataset)):
            _, prompt, label, images = dataset[i]
            engine = CannedEngine(processor.tokenizer, canned_responses(label))
            for _ in range(N_SAMPLES):
                jobs.append(
                    executor.execute(prompt, label, sampling, args.data.max_len, processor, engine, images)
                )
        return await asyncio.gather(*jobs)

    outputs = asyncio.run(rollout())
    # Upstream keeps the server's one-element `rewards` list per sample as it is.
    rewards = [o["reward"] for o in outputs]
    assert rewards == [[1.5], [0.5], [0.0], [1.0]] * 2, rewards  # our server, via upstream's HTTP client
    assert all(set(o["extra_logs"]) >= {"accuracy", "format"} for o in outputs)
    assert args.eval.dataset == setup.config["data.eval_data"] and args.eval.temperature == 0.0

    # 3. Experiences, batched as upstream does (micro-batches of rollout.micro_batch_size).
    samples = [
        upstream.SamplesGenerator._process_response_into_experience(None, o, max_len=args.data.max_len)
        for o in outputs
    ]
    maker = upstream.RemoteExperienceMaker(
        None,
        None,
        None,
        None,
        upstream.FixedKLController(args.algo.kl.init_coef),
        strategy,
        processor.tokenizer,
    )
    batches = maker.split_rollout_samples(samples)
    assert len(batches) == len(outputs) // args.rollout.micro_batch_size
    # The server's window monitors ride along as upstream's per-sample info (logged as train/<key>).
    places = {f"accuracy/{p}" for p in setup.config["monitor.places"].split(",")}
    assert places and {"top_answer_share", "padding_share", *places} <= set(batches[0].info)

    # 4. Old log-probs from upstream's Actor, then upstream's advantages.
    actor = upstream.Actor(
        setup.model_path,
        attn_implementation=args.ds.attn_implementation,  # sdpa: no flash_attn here
        param_dtype=args.ds.param_dtype,
        temperature=args.rollout.temperature,
        freeze_visual_encoder=args.actor.freeze_visual_encoder,
    )
    assert actor.is_vlm
    actor.eval()
    with torch.no_grad():
        for exp in batches:
            mm = upstream.merge_mm_train_inputs(exp.mm_train_inputs, "cpu")
            assert "pixel_values" in mm and "image_grid_thw" in mm
            exp.action_log_probs = actor(exp.sequences, exp.action_mask, exp.attention_mask, **mm)
            exp.kl = torch.zeros_like(exp.action_log_probs)  # kl_init_coef 0: no reference model
            assert torch.isfinite(exp.action_log_probs).all()
    batches = maker.compute_advantages_and_returns(batches)

    advantages = {}
    for exp in batches:
        for k, i in enumerate(exp.index):
            mask = exp.action_mask[k].bool()
            values = exp.advantages[k][mask]
            assert torch.allclose(values, values[0])  # gamma 1, reward at the end: one value per sample
            advantages[i] = values[0].item()
    order = [advantages[i] for i in range(len(outputs))]
    # reinforce_baseline: reward minus its prompt's mean, then whitened over all action tokens.
    assert order[0] > order[3] > order[1] > 0 > order[2] or order[0] > order[3] > 0 > order[1] > order[2]
    assert order[:4] == pytest.approx(order[4:], abs=0.5)  # same rewards in both prompts

    # 5. Upstream's policy loss through upstream's Actor, backward, one step.
    actor.model.float()  # DeepSpeed keeps fp32 master weights for bf16 training
    actor.train()
    loss_fn = upstream.PolicyLoss(
        clip_eps_low=args.actor.eps_clip_low_high[0],
        clip_eps_high=args.actor.eps_clip_low_high[1],
        token_level_loss=args.actor.loss_agg_mode == "token-mean",
        policy_loss_type=args.actor.policy_loss_type,
    )
    opt = torch.optim.SGD([p for p in actor.parameters() if p.requires_grad], lr=0.05)
    opt.zero_grad()
    for exp in batches:
        mm = upstream.merge_mm_train_inputs(exp.mm_train_inputs, "cpu")
        log_probs = actor(exp.sequences, exp.action_mask, attention_mask=exp.attention_mask, **mm)
        loss, *_ = loss_fn(
            log_probs, exp.action_log_probs.float(), exp.advantages, action_mask=exp.action_mask
        )
        assert torch.isfinite(loss)
        loss.backward()
    grads = {n: p.grad for n, p in actor.named_parameters() if p.requires_grad}
    assert all(g is not None and torch.isfinite(g).all() for g in grads.values())
    assert any(g.abs().sum() > 0 for n, g in grads.items() if "visual" in n)  # the vision tower trains too
    assert any(g.abs().sum() > 0 for n, g in grads.items() if "language_model" in n)
    opt.step()

    # The step moved probability towards the better answers: sum of A * (new - old) log-prob > 0.
    actor.eval()
    gain = 0.0
    with torch.no_grad():
        for exp in batches:
            mm = upstream.merge_mm_train_inputs(exp.mm_train_inputs, "cpu")
            new = actor(exp.sequences, exp.action_mask, exp.attention_mask, **mm)
            gain += ((new - exp.action_log_probs.float()) * exp.advantages * exp.action_mask).sum().item()
    assert gain > 0
