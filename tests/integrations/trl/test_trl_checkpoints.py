"""The TRL checkpoint seam (`seekworld.integrations.trl.checkpoints`) on the tiny Qwen2.5-VL: saved
weights load back whole (original key layout, tied embeddings, shards), a checkpoint that does not
cover the model is refused, logs are cut back to a step, the disk-full message names the disk."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")
pytest.importorskip("trl")

from safetensors.torch import load_file, save_file  # noqa: E402
from transformers import AutoModelForImageTextToText, Qwen2_5_VLForConditionalGeneration  # noqa: E402

from seekworld.integrations.trl.checkpoints import (  # noqa: E402
    CheckpointSpaceError,
    CheckpointWeightsError,
    EpochSampler,
    checkpoint_bytes,
    disk_of,
    is_space_failure,
    keep_row,
    load_weights,
    prepare_resume,
    space_message,
    truncate_steps,
    weight_key_map,
)
from seekworld.train.resume import STAGING  # noqa: E402

pytestmark = pytest.mark.slow


def _trained(path: Path):
    """The tiny model as from_pretrained loads it, with every weight moved (a stand-in for training)."""
    model = AutoModelForImageTextToText.from_pretrained(path)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.01 * torch.randn_like(p))
    return model


def _same(a, b) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_saved_keys_are_not_the_models_and_map_back(tiny_qwen, tmp_path):
    model = _trained(tiny_qwen.path)
    model.save_pretrained(tmp_path)
    saved = load_file(str(tmp_path / "model.safetensors"))
    own = set(model.state_dict())
    # transformers 5 writes Qwen2.5-VL's original layout: a plain load_state_dict matches only lm_head.
    assert any(k.startswith("visual.") for k in saved) and own & set(saved) == {"lm_head.weight"}
    assert set(weight_key_map(model, saved).values()) == own
    assert weight_key_map(model, own) == {k: k for k in own}  # the model's own layout stays as it is


@pytest.mark.parametrize(
    ("hidden", "layers", "heads", "kv_heads", "intermediate", "tied"),
    [(2048, 36, 16, 2, 11008, True), (3584, 28, 28, 4, 18944, False)],
    ids=["Qwen2.5-VL-3B", "Qwen2.5-VL-7B"],
)
def test_real_qwen25_vl_layouts_map_back(hidden, layers, heads, kv_heads, intermediate, tied):
    """The released sizes' shapes, built on the meta device (no weights): the keys save_pretrained
    writes miss the model's almost entirely, and map back onto all of them (the tied lm_head of 3B
    is not saved)."""
    from transformers import Qwen2_5_VLConfig
    from transformers.core_model_loading import revert_weight_conversion
    from transformers.modeling_utils import remove_tied_weights_from_state_dict

    text = {
        "hidden_size": hidden,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "num_key_value_heads": kv_heads,
        "intermediate_size": intermediate,
        "vocab_size": 151936,
        "tie_word_embeddings": tied,
    }
    vision = {"depth": 32, "hidden_size": 1280, "out_hidden_size": hidden, "intermediate_size": 3420}
    config = Qwen2_5_VLConfig(text_config=text, vision_config=vision, tie_word_embeddings=tied)
    with torch.device("meta"):
        model = Qwen2_5_VLForConditionalGeneration(config)
    own = model.state_dict()
    saved = revert_weight_conversion(model, remove_tied_weights_from_state_dict(dict(own), model))
    assert len(set(saved) & set(own)) == (0 if tied else 1)  # only an untied lm_head keeps its name
    mapped = set(weight_key_map(model, saved).values())
    assert set(own) - mapped == ({"lm_head.weight"} if tied else set())


def test_load_weights_restores_every_tensor(tiny_qwen, tmp_path):
    trained = _trained(tiny_qwen.path)
    trained.save_pretrained(tmp_path)
    fresh = AutoModelForImageTextToText.from_pretrained(tiny_qwen.path)
    assert not _same(fresh, trained)
    assert load_weights(fresh, tmp_path) == len(trained.state_dict())
    assert _same(fresh, trained)
    # Built, not loaded with from_pretrained: no conversions kept on the model.
    built = Qwen2_5_VLForConditionalGeneration(trained.config)
    load_weights(built, tmp_path)
    assert _same(built, trained)


def test_sharded_checkpoint_loads(tiny_qwen, tmp_path):
    trained = _trained(tiny_qwen.path)
    trained.save_pretrained(tmp_path, max_shard_size="200KB")
    assert (tmp_path / "model.safetensors.index.json").is_file()
    fresh = AutoModelForImageTextToText.from_pretrained(tiny_qwen.path)
    load_weights(fresh, tmp_path)
    assert _same(fresh, trained)


def test_tied_embeddings_count_as_restored(tiny_qwen, tmp_path):
    config = AutoModelForImageTextToText.from_pretrained(tiny_qwen.path).config
    config.tie_word_embeddings = config.get_text_config().tie_word_embeddings = True
    torch.manual_seed(1)
    trained = Qwen2_5_VLForConditionalGeneration(config)
    trained.save_pretrained(tmp_path)
    assert "lm_head.weight" not in load_file(
        str(tmp_path / "model.safetensors")
    )  # saved once, as the embedding
    torch.manual_seed(2)
    fresh = Qwen2_5_VLForConditionalGeneration(config)
    load_weights(fresh, tmp_path)
    assert _same(fresh, trained) and fresh.lm_head.weight is fresh.get_input_embeddings().weight


def test_a_checkpoint_missing_weights_is_refused(tiny_qwen, tmp_path):
    trained = _trained(tiny_qwen.path)
    trained.save_pretrained(tmp_path)
    saved = load_file(str(tmp_path / "model.safetensors"))
    dropped = sorted(k for k in saved if k.startswith("visual."))
    save_file({k: v for k, v in saved.items() if k not in dropped}, str(tmp_path / "model.safetensors"))
    fresh = AutoModelForImageTextToText.from_pretrained(tiny_qwen.path)
    with pytest.raises(
        CheckpointWeightsError, match=rf"{len(dropped)} model weights not in it \(model\.visual\."
    ):
        load_weights(fresh, tmp_path)
    save_file({**saved, "stray.weight": torch.zeros(1)}, str(tmp_path / "model.safetensors"))
    with pytest.raises(CheckpointWeightsError, match="1 saved weights the model lacks"):
        load_weights(fresh, tmp_path)


def test_checkpoint_bytes_are_weights_plus_optimizer_state():
    model = torch.nn.Linear(10, 10)  # 110 float32 parameters
    optimizer = torch.optim.AdamW(model.parameters())
    assert checkpoint_bytes(model, optimizer) == 110 * 4
    model(torch.ones(1, 10)).sum().backward()
    optimizer.step()  # AdamW keeps two moments per parameter (and a step counter per tensor)
    assert 3 * 110 * 4 <= checkpoint_bytes(model, optimizer) <= 3 * 110 * 4 + 2 * 8


def test_space_message_names_the_disk_and_sizes(tmp_path):
    mount, _ = disk_of(tmp_path)
    assert tmp_path.resolve().is_relative_to(mount)
    text = space_message(
        "checkpoint-30", tmp_path, "/data", "/dev/nvme1n1", 512 * 1024**2, 3 * 1024**3, "checkpoint-20"
    )
    assert text == (
        f"checkpoint-30 not saved: the disk holding {tmp_path} is full: /data (/dev/nvme1n1) has "
        "512.0 MB free, a checkpoint needs about 3.0 GB; free space or lower checkpoint.max_num, then "
        "rerun to resume from checkpoint-20"
    )
    assert "starts fresh" in space_message("checkpoint-1", tmp_path, "/", "", 0, 10, None)


def test_space_failures():
    full = OSError(errno.ENOSPC, "No space left on device")
    try:
        try:
            raise full
        except OSError as exc:
            raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos") from exc
    except RuntimeError as wrapped:
        assert is_space_failure(wrapped, free=10**12, needed=1)  # the errno decides
    assert is_space_failure(OSError(errno.EDQUOT, "Disk quota exceeded"), 10**12, 1)
    torch_error = RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 1152 vs 1044")
    assert is_space_failure(torch_error, free=100, needed=1000)  # no errno: the free space decides
    assert not is_space_failure(torch_error, free=1000, needed=100)
    assert not is_space_failure(OSError(errno.EACCES, "Permission denied"), free=0, needed=100)
    assert issubclass(CheckpointSpaceError, OSError) and str(CheckpointSpaceError("one line")) == "one line"


# ---------------------------------------------------------------- logs and the rerun

rows = st.lists(
    st.one_of(
        st.fixed_dictionaries({"step": st.integers(-2, 12), "reward": st.floats(allow_nan=False)}),
        st.fixed_dictionaries({"step": st.sampled_from([True, "3", 2.0, None])}),
        st.text(max_size=20),  # a torn or foreign line
    ),
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(rows=rows, last=st.integers(1, 10))
def test_truncate_keeps_exactly_the_whole_rows_up_to_the_step(tmp_path_factory, rows, last):
    path = tmp_path_factory.mktemp("logs") / "metrics.jsonl"
    lines = [json.dumps(r) if isinstance(r, dict) else r.replace("\n", " ") for r in rows]
    path.write_bytes("".join(line + "\n" for line in lines).encode("utf-8"))
    kept = [line for line in lines if keep_row(line, last)]
    assert truncate_steps(path, last) == len(lines) - len(kept)
    assert path.read_bytes().decode("utf-8").split("\n")[:-1] == kept
    for line in kept:
        step = json.loads(line)["step"]
        assert type(step) is int and step <= last


def test_truncate_drops_a_torn_last_line_and_step_zero_removes_the_file(tmp_path):
    path = tmp_path / "samples.jsonl"
    path.write_text('{"step": 1}\n{"step": 2}\n{"step": 3, "compl', encoding="utf-8")
    assert truncate_steps(path, 5) == 1 and path.read_text() == '{"step": 1}\n{"step": 2}\n'
    assert truncate_steps(path, 5) == 0
    assert truncate_steps(path, 0) == 2 and not path.exists()
    assert truncate_steps(path, 3) == 0


def _checkpoint(output: Path, step: int, whole: bool = True) -> None:
    folder = output / f"checkpoint-{step}"
    folder.mkdir(parents=True)
    for name in ("model.safetensors", "optimizer.pt") + (("trainer_state.json",) if whole else ()):
        (folder / name).write_text(json.dumps({"global_step": step}))


def test_prepare_resume_cleans_up_and_says_so(tmp_path):
    _checkpoint(tmp_path, 2)
    _checkpoint(tmp_path, 4, whole=False)
    (tmp_path / STAGING / "checkpoint-6").mkdir(parents=True)
    logs = [tmp_path / "metrics.jsonl", tmp_path / "samples.jsonl"]
    for log in logs:
        log.write_text("".join(json.dumps({"step": s}) + "\n" for s in (1, 2, 3, 4, 5)))
    said: list[str] = []
    assert prepare_resume(tmp_path, True, logs, main=False, say=said.append) == str(tmp_path / "checkpoint-2")
    # Only the main process removes anything.
    assert (tmp_path / "checkpoint-4").exists() and (tmp_path / STAGING).exists()
    said.clear()
    for log in logs:
        log.write_text("".join(json.dumps({"step": s}) + "\n" for s in (1, 2, 3, 4, 5)))
    assert prepare_resume(tmp_path, True, logs, say=said.append) == str(tmp_path / "checkpoint-2")
    assert not (tmp_path / "checkpoint-4").exists() and not (tmp_path / STAGING).exists()
    assert [json.loads(x)["step"] for x in logs[0].read_text().splitlines()] == [1, 2]
    text = "\n".join(said)
    assert "removed checkpoint-6" in text
    assert "checkpoint-4 is incomplete (no trainer_state.json): removed" in text
    assert "metrics.jsonl: dropped 3 rows after step 2" in text and "resuming from" in text


def test_a_fresh_run_starts_fresh_logs(tmp_path):
    _checkpoint(tmp_path, 2)
    log = tmp_path / "metrics.jsonl"
    log.write_text('{"step": 1}\n')
    assert prepare_resume(tmp_path, False, [log], say=lambda _: None) is None
    assert not log.exists() and (tmp_path / "checkpoint-2").exists()


# ---------------------------------------------------------------- the save seam


def _score(completions, **kwargs):
    return [0.0] * len(completions)


@pytest.fixture
def trainer(tiny_qwen, tmp_path):
    from datasets import Dataset
    from trl import GRPOConfig

    from seekworld.integrations.trl.checkpoints import ResumableGRPOTrainer

    args = GRPOConfig(
        output_dir=str(tmp_path / "out"),
        use_cpu=True,
        per_device_train_batch_size=2,
        num_generations=2,
        max_completion_length=4,
        max_steps=1,
        save_total_limit=1,
        report_to="none",
    )
    trainer = ResumableGRPOTrainer(
        model=AutoModelForImageTextToText.from_pretrained(tiny_qwen.path),
        reward_funcs=[_score],
        args=args,
        train_dataset=Dataset.from_list([{"prompt": "Where?"}] * 2),
        processing_class=tiny_qwen.processor,
    )
    trainer.create_optimizer_and_scheduler(num_training_steps=1)
    return trainer


def _save(trainer, step: int) -> None:
    trainer.state.global_step = step
    trainer._save_checkpoint(trainer.model, None)


def test_checkpoints_appear_whole_and_rotate(trainer):
    from seekworld.train.resume import trl_checkpoints

    out = Path(trainer.args.output_dir)
    _save(trainer, 7)
    assert [(c.step, c.problem) for c in trl_checkpoints(out)] == [(7, None)]
    assert not (out / STAGING).exists()
    _save(trainer, 9)  # save_total_limit=1: the older one goes once the new one is in place
    assert [(c.step, c.problem) for c in trl_checkpoints(out)] == [(9, None)]


def test_disk_full_stand_in_at_the_save_seam(trainer, monkeypatch):
    """Stand-in: the optimizer write fails with ENOSPC (no disk fills up; tests/train/test_trl_resume.py
    fills a real tmpfs where it may mount one)."""
    out = Path(trainer.args.output_dir)
    _save(trainer, 7)

    def full(self, output_dir):
        raise OSError(errno.ENOSPC, "No space left on device", str(Path(output_dir) / "optimizer.pt"))

    monkeypatch.setattr(type(trainer), "_save_optimizer_and_scheduler", full)
    with pytest.raises(CheckpointSpaceError) as caught:
        _save(trainer, 8)
    message = str(caught.value)
    assert message.startswith(f"checkpoint-8 not saved: the disk holding {out} is full: {disk_of(out)[0]}")
    assert "a checkpoint needs about" in message and message.endswith("rerun to resume from checkpoint-7")
    assert sorted(p.name for p in out.iterdir() if "checkpoint" in p.name) == ["checkpoint-7"]


def test_torch_write_error_on_a_full_disk_and_other_errors(trainer, monkeypatch):
    """torch.save's own error on a full disk carries no errno: the free space decides (a stand-in
    disk_usage reports the disk full); with room to spare the original error goes through."""
    import shutil
    from collections import namedtuple

    out = Path(trainer.args.output_dir)

    def torch_error(self, output_dir):
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 1152 vs 1044")

    monkeypatch.setattr(type(trainer), "_save_optimizer_and_scheduler", torch_error)
    with pytest.raises(RuntimeError, match="unexpected pos") as caught:
        _save(trainer, 3)
    assert not isinstance(caught.value, CheckpointSpaceError)
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 4096, 4096))
    with pytest.raises(CheckpointSpaceError, match=r"has 4\.0 KB free, a checkpoint needs about"):
        _save(trainer, 3)
    assert not any("checkpoint" in p.name for p in out.iterdir())


def _passes(sampler: EpochSampler, epochs) -> list[list[int]]:
    out = []
    for epoch in epochs:
        sampler.set_epoch(epoch)
        out.append(list(sampler))
    return out


def test_a_pass_is_drawn_in_the_same_order_whether_earlier_passes_were_drawn_or_not():
    def sampler() -> EpochSampler:
        return EpochSampler(list(range(12)), mini_repeat_count=2, batch_size=3, seed=7)

    whole = _passes(sampler(), range(4))  # an uninterrupted run
    resumed = _passes(sampler(), [2, 3])  # a new process, resumed in the third pass
    assert resumed == whole[2:]
    assert whole[0] != whole[1] != whole[2]  # each pass a new order
    assert sorted(set(whole[1])) == list(range(12))  # a shuffle: every row, each repeated
    plain = _passes(EpochSampler(list(range(12)), mini_repeat_count=2, batch_size=3, shuffle=False), [0, 5])
    assert plain[0] == plain[1] == [i for i in range(12) for _ in range(2)]
