"""The zoom tool on TRL end to end on CPU: `seekworld train --backend trl` with `zoom.enabled`, the tiny
offline Qwen2.5-VL, and a scripted policy (tests/helpers/scripted_policy.py, a labelled stand-in for
a trained model) that calls the tool and then answers. Everything else is TRL's real tool path:
parsing the call out of the generated tokens, running our tool, re-tokenising the crop into the
next turn's input, the forward pass over both images, and our rewards on the transcript."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import pytest
from helpers.scripted_policy import ScriptedTurns, tool_call_turn
from helpers.zoom import make_photo

from seekworld.cli.main import main
from seekworld.zoom.protocol import answer_turn, system_prompt

BOX = [0.1, 0.1, 0.6, 0.6]
ANSWERS = [answer_turn("It reads Santiago.", "$Spain,Galicia$"), answer_turn("Kanji.", "$Japan,Osaka$")]
# Every sample calls the tool; the two samples of a prompt then answer differently (non-zero advantages).
TURNS = [tool_call_turn("A sign on the left.", BOX), ANSWERS]
LABELS = [{"country": "Spain", "region": "Galicia"}, {"country": "Japan", "region": "Osaka"}]


def _data(root: Path, tool_call: bool = True) -> Path:
    rows = []
    for i, label in enumerate(LABELS):
        photo = make_photo(root / f"photo{i}.png", seed=i)
        prompt = [
            {"role": "system", "content": system_prompt(tool_call=tool_call)},
            {"role": "user", "content": "<image>Where was this photo taken?"},
        ]
        rows.append({"prompt": prompt, "images": [str(photo)], "label": json.dumps(label)})
    path = root / "train.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _config(root: Path, model: Path, data: Path, **extra: str) -> Path:
    zoom = {
        "enabled": "true",
        "crop_min_side": "56",
        "crop_max_pixels": str(24 * 28 * 28),
        "tool_bonus": "0.25",
    }
    zoom.update(extra)
    text = f"""backend = "trl"
[model]
path = "{model}"
[data]
prompt_data = "{data}"
[rollout]
n_samples_per_prompt = 2
batch_size = 2
max_new_tokens = 400
[train]
batch_size = 4
micro_batch_size = 4
num_episodes = 1
[actor]
lr = 1e-3
lr_scheduler = "constant"  # one step: a warm-up would make it at lr 0
[deepspeed]
gradient_checkpointing = false
[checkpoint]
save_path = "{root / "out"}"
save_steps = 100
[trl]
device = "cpu"
vllm = "off"
max_steps = 1
max_pixels = {112 * 112}
[zoom]
""" + "".join(f"{k} = {v}\n" for k, v in zoom.items())
    path = root / "zoom.toml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def zoom_run(tiny_qwen, tmp_path_factory):
    from transformers import LogitsProcessorList

    import seekworld.integrations.trl.backend as backend

    root = tmp_path_factory.mktemp("trl-zoom")
    config = _config(root, tiny_qwen.path, _data(root))
    scripts: list[ScriptedTurns] = []
    original = backend._load

    def scripted_load(*args, **kwargs):
        model, processor = original(*args, **kwargs)
        script = ScriptedTurns(processor.tokenizer, TURNS)
        scripts.append(script)
        model.generate = partial(model.generate, logits_processor=LogitsProcessorList([script]))
        return model, processor

    mp = pytest.MonkeyPatch()
    mp.setattr(backend, "_load", scripted_load)
    try:
        rc = main(["train", "--config", str(config)])
    finally:
        mp.undo()
    assert rc == 0
    return root / "out", scripts[0]


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_the_tool_ran_and_the_crop_reached_the_next_turn(zoom_run):
    out, script = zoom_run
    first, second = script.seen[0], script.seen[1]
    assert len(first) == len(second) == 4  # 2 prompts x 2 samples, each called the tool once
    for before, after in zip(first, second, strict=True):
        assert before["images"] == 1 and after["images"] == 2  # the photo, then the photo + the crop
        assert after["image_pads"] > before["image_pads"]  # the crop's visual tokens are in the input
    metrics = _rows(out / "metrics.jsonl")
    assert [m["step"] for m in metrics] == [1]
    assert metrics[0]["zoom_calls"] == 1.0 and metrics[0]["invalid_zoom"] == 0.0
    assert metrics[0]["tools/call_frequency"] == 1.0 and metrics[0]["tools/failure_frequency"] == 0.0


def test_rewards_score_the_transcript_as_the_openrlhf_agent_does(zoom_run):
    from seekworld.rewards.variants import RewardConfig
    from seekworld.zoom.protocol import ZoomConfig, ZoomEpisode
    from seekworld.zoom.reward import score_episode

    out, _ = zoom_run
    samples = _rows(out / "samples.jsonl")
    assert len(samples) == 4
    zoom = ZoomConfig(crop_min_side=56, crop_max_pixels=24 * 28 * 28, tool_bonus=0.25)
    for s in samples:
        turns = s["completion"]
        assert turns[0].endswith("<zoom>[0.1, 0.1, 0.6, 0.6]</zoom>")  # the call, in the protocol's form
        assert turns[1] in ANSWERS
        episode = ZoomEpisode(zoom)
        for turn in turns:
            episode.step(turn)
        expected = score_episode(episode, s["label"], RewardConfig.from_variant("rule"), zoom)
        assert s["format"] == 1.0
        assert (
            s["accuracy"] == expected.components["accuracy"]
            and s["tool_bonus"] == expected.components["tool_bonus"]
        )
        assert s["reward"] == pytest.approx(expected.reward)
    right = [s for s in samples if s["accuracy"] == 1.0]
    assert len(right) == 2 and all(s["reward"] == pytest.approx(0.5 + 1.0 + 0.25) for s in right)
    wrong = [s for s in samples if s["accuracy"] == 0.0]
    assert len(wrong) == 2 and all(
        s["tool_bonus"] == 0.0 for s in wrong
    )  # crops pay nothing for a wrong answer
    metrics = _rows(out / "metrics.jsonl")[0]
    assert metrics["reward"] == pytest.approx(sum(s["reward"] for s in samples) / 4, abs=1e-5)


def test_the_checkpoint_keeps_the_tool_template(zoom_run):
    from transformers import AutoProcessor

    from seekworld.integrations.trl.zoom import tool_template

    out, _ = zoom_run
    assert AutoProcessor.from_pretrained(out).chat_template == tool_template()


def test_the_update_trained_on_the_multi_image_transcript(zoom_run, tiny_qwen):
    from safetensors.torch import load_file

    out, _ = zoom_run
    metrics = _rows(out / "metrics.jsonl")[0]
    assert metrics["grad_norm"] > 0  # the loss over [photo, turn, crop, turn] has a gradient
    before, after = (
        load_file(str(tiny_qwen.path / "model.safetensors")),
        load_file(str(out / "model.safetensors")),
    )
    changed = [k for k in before if not before[k].equal(after[k])]
    assert any("visual" in k for k in changed) and any("visual" not in k for k in changed)


def test_dry_run_checks_the_zoom_tool(tiny_qwen, tmp_path, capsys):
    config = _config(tmp_path, tiny_qwen.path, _data(tmp_path))
    assert main(["train", "--config", str(config), "--dry-run"]) == 0
    out = capsys.readouterr().out
    zoom = next(line for line in out.splitlines() if line.startswith("[ok  ] zoom"))
    assert "TRL accepts the shipped template" in zoom and "max_tool_calling_iterations 9" in zoom
    assert "zoom + right answer 1.75 vs junk 0.00" in zoom  # 0.5 format + 1 accuracy + 0.25 tool bonus
    assert not (tmp_path / "out" / "metrics.jsonl").exists()


def test_dry_run_fails_when_the_tool_cannot_crop(tiny_qwen, tmp_path, capsys):
    # min_box_px larger than any photo: every box is refused, so the run could never zoom.
    config = _config(tmp_path, tiny_qwen.path, _data(tmp_path), min_box_px="100000")
    assert main(["train", "--config", str(config), "--dry-run"]) == 1
    fail = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("[FAIL] zoom"))
    assert "the tool returned no image for a valid box" in fail


def test_dry_run_warns_when_the_prompt_teaches_the_zoom_tag(tiny_qwen, tmp_path, capsys):
    config = _config(tmp_path, tiny_qwen.path, _data(tmp_path, tool_call=False))
    assert main(["train", "--config", str(config), "--dry-run"]) == 0  # a warning, not a failure
    out = capsys.readouterr().out
    assert "[warn] zoom" in out and "seekworld traces prompt-template --tool-call" in out


def test_dry_run_fails_when_no_row_has_a_usable_label(tiny_qwen, tmp_path, capsys):
    # as the reward probe of a run without zoom: nothing to probe the zoom reward with is a failure
    data = _data(tmp_path)
    rows = [{**json.loads(line), "label": ""} for line in data.read_text().splitlines()]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = _config(tmp_path, tiny_qwen.path, data)
    assert main(["train", "--config", str(config), "--dry-run"]) == 1
    fail = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("[FAIL] zoom"))
    assert "no row with a usable label" in fail


def test_dry_run_fails_when_the_model_folder_does_not_load(tiny_qwen, tmp_path, capsys):
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    config = _config(tmp_path, broken, _data(tmp_path))
    assert main(["train", "--config", str(config), "--dry-run"]) == 1
    fail = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("[FAIL] zoom"))
    assert "zoom tool check failed" in fail
