"""Preflight checks, one at a time, on hand-made data and reward endpoints (fast, in-process)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from seekworld.train.config import load_config
from seekworld.train.preflight import common, openrlhf

SYSTEM = {"role": "system", "content": "Where?"}


def make_image(path):
    from PIL import Image

    Image.new("RGB", (32, 24), (120, 30, 200)).save(path)
    return str(path)


def row(image, label="$japan,osaka$", prompt=None, **extra):
    prompt = (
        prompt
        if prompt is not None
        else [SYSTEM, {"role": "user", "content": "<image>Where was this taken?"}]
    )
    return {"id": extra.pop("id", "r"), "prompt": prompt, "images": image, "label": label, **extra}


def write(tmp_path, rows, name="train.jsonl"):
    path = tmp_path / name
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def config_for(path, *more):
    return load_config(overrides=[f"data.prompt_data={path}", *more])


def test_good_rows_pass(tmp_path):
    img = make_image(tmp_path / "a.png")
    content_list = [
        SYSTEM,
        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Where?"}]},
    ]
    rows = [row([img]), row([img], prompt=content_list), row(img, prompt="<image>Where?")]
    results = common.check_data(config_for(write(tmp_path, rows)))
    assert [r.name for r in results] == ["data", "images"]
    assert all(r.ok for r in results), results
    assert results[0].warning  # 3 rows < rollout.batch_size: said, not fatal
    assert "1 of 1 images exist and decode" in results[1].detail


# One bad row each; the message names the row and what is wrong.
@pytest.mark.parametrize(
    "bad,message",
    [
        ('{"prompt": ', "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ("no-label", "missing label"),
        ("tags", "1 <image> tag(s) but 2 image(s)"),
        ("relative", "is relative; rollout workers need absolute paths"),
        ("label", "label '{bad'"),
        ("no-image", "no image (VLM training needs one per prompt)"),
        ("prompt-type", "prompt must be a string or a list of {role, content} messages"),
        ("image-type", "images must be a list of image paths"),
    ],
)
def test_bad_rows_are_named(tmp_path, bad, message):
    img = make_image(tmp_path / "a.png")
    special = {
        "no-label": {"prompt": [], "images": []},
        "tags": row([img, img], id="two"),
        "relative": row(["images/a.png"]),
        "label": row([img], label="{bad"),
        "no-image": row([], prompt="Where?"),
        "prompt-type": row([img], prompt={"text": "<image>"}),
        "image-type": row([{"path": img}]),
    }
    path = write(tmp_path, [row([img]), special.get(bad, bad)])
    data = common.check_data(config_for(path, "data.max_images_per_prompt=2"))[0]
    assert data.name == "data" and not data.ok
    assert data.detail.startswith("1 problem(s) in ")
    assert f"{path}:2" in data.detail
    assert message in data.detail


def test_too_many_images_for_the_flag(tmp_path):
    img = make_image(tmp_path / "a.png")
    prompt = [SYSTEM, {"role": "user", "content": "<image><image>Where?"}]
    results = common.check_data(config_for(write(tmp_path, [row([img, img], prompt=prompt)])))
    assert "2 images > data.max_images_per_prompt=1" in results[0].detail
    ok = common.check_data(
        config_for(write(tmp_path, [row([img, img], prompt=prompt)]), "data.max_images_per_prompt=2")
    )
    assert all(r.ok for r in ok)


def test_missing_and_broken_images(tmp_path):
    img = make_image(tmp_path / "a.png")
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    rows = [row([img]), row([str(tmp_path / "gone.jpg")], id="g"), row([str(broken)], id="b")]
    results = common.check_data(config_for(write(tmp_path, rows)))
    assert results[0].ok  # the rows themselves are fine
    images = results[1]
    assert not images.ok and "2 of all 3 images fail" in images.detail
    assert "gone.jpg: missing (used at" in images.detail
    assert "broken.jpg: does not decode" in images.detail


def test_sample_decodes_a_subset(tmp_path):
    rows = [row([make_image(tmp_path / f"{i}.png")], id=str(i)) for i in range(6)]
    results = common.check_data(config_for(write(tmp_path, rows)), sample=2)
    assert results[1].ok and "2 of 6 images" in results[1].detail and "--sample" in results[1].detail


def test_missing_data_file_says_how_to_make_it(tmp_path):
    results = common.check_data(config_for(tmp_path / "nope.jsonl"))
    assert not results[0].ok and "seekworld prepare" in results[0].detail


def test_held_out_data_is_checked_like_the_training_data(tmp_path):
    img = make_image(tmp_path / "a.png")
    train = write(tmp_path, [row([img])])
    assert common.check_eval_data(config_for(train)) == []  # none given: nothing to check
    held_out = write(tmp_path, [row([img]), row([img], label="$$")], "test.jsonl")
    (data, images) = common.check_eval_data(config_for(train, f"data.eval_data={held_out}"))
    assert (data.name, images.name) == ("eval data", "eval images")
    assert not data.ok and "test.jsonl:2" in data.detail
    (missing,) = common.check_eval_data(config_for(train, f"data.eval_data={tmp_path / 'nope.jsonl'}"))
    assert not missing.ok and "data.eval_data=DIR/<split>.jsonl" in missing.detail


def test_training_places_fill_monitor_places(tmp_path):
    from seekworld.train.places import with_monitor_places

    img = make_image(tmp_path / "a.png")
    rows = [row([img], label=x) for x in ("$japan,osaka$", "$japan,tokyo$", "$$", "$japan,osaka$")]
    config = config_for(write(tmp_path, [*rows, "not json"]))
    assert with_monitor_places(config)["monitor.places"] == "JP-13,JP-27"  # two regions: per region
    given = config.replace(monitor__places="JP")
    assert with_monitor_places(given)["monitor.places"] == "JP"  # set by the user: kept


# ---------------------------------------------------------------- reward endpoint


class Canned(BaseHTTPRequestHandler):
    answer: object = None
    status = 200
    seen: ClassVar[list] = []

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append(body)
        data = json.dumps(self.answer).encode()
        self.send_response(self.status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def canned():
    class Handler(Canned):
        seen: ClassVar[list] = []

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield Handler, f"http://127.0.0.1:{server.server_address[1]}/get_reward"
    server.shutdown()
    server.server_close()


ROWS = [row(["/x.png"], label="$japan,osaka$"), row(["/y.png"], label="$china,sichuan/四川$")]


@pytest.mark.parametrize(
    "answer,message",
    [
        ({"rewards": [0.5], "extra_logs": {"acc": ["high"]}}, "a string crashes upstream"),
        ({"rewards": [7.0]}, "outside the variant's range [0.0, 1.5]"),
        ({"rewards": 1.0}, "'rewards' must be a list"),
        ({"rewards": ["1"]}, "is not a finite number"),
        ({"rewards": [float("nan")]}, "is not a finite number"),
        ({"scores": [1.0]}, "answer has no 'rewards'"),
        ({"rewards": [1.0], "scores": ["x"]}, "'scores' must be numbers"),
    ],
)
def test_bad_reward_answers_fail(canned, answer, message):
    handler, url = canned
    handler.answer = answer
    result = openrlhf.check_reward(load_config(), [url], ROWS)
    assert not result.ok and message in result.detail


def test_reward_probe_speaks_upstreams_protocol(canned):
    handler, url = canned
    handler.answer = {"rewards": [1.0], "scores": [1.0], "extra_logs": {"format": [1.0]}}
    result = openrlhf.check_reward(load_config(), [url], ROWS)
    # Same reward for right and junk answers: passes, with a warning to look at.
    assert result.ok and result.warning and "did not score above junk" in result.detail
    body = handler.seen[0]
    assert set(body) == {"query", "prompts", "labels"} and all(len(v) == 1 for v in body.values())
    assert body["labels"] == ["$japan,osaka$"]
    assert body["prompts"][0].endswith("<|im_start|>assistant\n")
    assert body["query"][0].startswith("<|im_start|>system\nWhere?<|im_end|>")
    assert "<answer>$japan,osaka$</answer><|im_end|>" in body["query"][0]


def test_reward_http_error_fails(canned):
    handler, url = canned
    handler.status, handler.answer = 500, {"error": "boom"}
    result = openrlhf.check_reward(load_config(), [url], ROWS)
    assert not result.ok and "500" in result.detail


def test_in_process_reward_file():
    from seekworld.train.launch import reward_env, reward_func_path

    config = load_config(overrides=["reward.mode=file", "reward.variant=rule+length"])
    result = openrlhf.check_reward(config, [reward_func_path()], ROWS, reward_env(config))
    assert result.ok, result.detail
    assert "reward file (rule+length)" in result.detail and "range [0, 2.5]" in result.detail
    assert "SEEKWORLD_* must be set where Ray started" in result.detail


# ---------------------------------------------------------------- GPUs, packages, model, logging


def no_gpu(monkeypatch):
    monkeypatch.setattr(openrlhf, "_gpu_devices_present", lambda: False)


def test_no_gpu_warns_in_a_dry_run_and_fails_otherwise(monkeypatch):
    no_gpu(monkeypatch)
    (dry,) = openrlhf.check_gpus(load_config(), dry_run=True)
    assert dry.ok and dry.warning and "no GPU visible here" in dry.detail
    (real,) = openrlhf.check_gpus(load_config(), dry_run=False)
    assert not real.ok and "not starting" in real.detail


def test_judge_gpus_must_not_be_training_gpus(monkeypatch):
    no_gpu(monkeypatch)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    clash = load_config(overrides=["reward.variant=rule+judge", "judge.mode=start", "judge.gpus=7"])
    results = openrlhf.check_gpus(clash, dry_run=True)
    assert results[0].name == "judge gpus" and not results[0].ok
    apart = load_config(
        overrides=["reward.variant=rule+judge", "judge.mode=start", "judge.gpus=7", "cluster.gpus_per_node=7"]
    )
    assert [r.name for r in openrlhf.check_gpus(apart, dry_run=True)] == ["gpus"]


def test_gpu_packages_missing_here(monkeypatch):
    monkeypatch.setattr(openrlhf.importlib.util, "find_spec", lambda name: None)
    dry = {r.name: r for r in openrlhf.check_packages(load_config(), dry_run=True)}
    assert dry["gpu packages"].ok and dry["gpu packages"].warning
    assert "vllm: not installed" in dry["gpu packages"].detail
    real = {r.name: r for r in openrlhf.check_packages(load_config(), dry_run=False)}
    assert not real["gpu packages"].ok


def test_openrlhf_version_other_than_the_pin_warns(monkeypatch):
    monkeypatch.setattr(openrlhf, "_version", lambda dist: "0.12.0" if dist == "openrlhf" else None)
    results = {r.name: r for r in openrlhf.check_packages(load_config(), dry_run=True)}
    assert (
        results["openrlhf"].ok
        and results["openrlhf"].warning
        and "Upgrading OpenRLHF" in results["openrlhf"].detail
    )


def test_model_folder_must_be_a_vlm(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "qwen2"}))
    bad = common.check_model(load_config(overrides=[f"model.path={tmp_path}"]))
    assert not bad.ok and "not a VLM" in bad.detail
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "qwen2_5_vl", "vision_config": {}}))
    assert common.check_model(load_config(overrides=[f"model.path={tmp_path}"])).ok
    assert common.check_model(load_config()).ok  # a hub id is not checked offline


def test_outputs_report_resume(tmp_path):
    actor = tmp_path / "run" / "ckpt" / "_actor"
    (actor / "global_step4").mkdir(parents=True)
    (actor / "global_step4" / "mp_rank_00_model_states.pt").write_bytes(b"x")
    (actor / "latest").write_text("global_step4")
    result = common.check_outputs(load_config(overrides=[f"checkpoint.save_path={tmp_path / 'run'}"]))
    assert result.ok and "resumes from" in result.detail and "(step 4)" in result.detail


def test_wandb_needs_a_key(monkeypatch):
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    assert not common.check_logging(load_config(overrides=["logging.wandb=true"])).ok
    monkeypatch.setenv("WANDB_API_KEY", "k")
    assert common.check_logging(load_config(overrides=["logging.wandb=true"])).ok


def test_report_format():
    text = common.format_report(
        [
            common.CheckResult("data", True, "fine"),
            common.CheckResult("gpus", True, "none\nsecond line", warning=True),
            common.CheckResult("reward", False, "down"),
        ]
    )
    assert text.splitlines() == [
        "[ok  ] data    fine",
        "[warn] gpus    none",
        "               second line",
        "[FAIL] reward  down",
        "preflight: 2 passed (1 with warnings), 1 failed",
    ]


def fake_torch(monkeypatch, count, gib):
    import sys
    import types

    props = types.SimpleNamespace(name="Fake GPU", total_memory=int(gib * 2**30))
    cuda = types.SimpleNamespace(
        is_available=lambda: count > 0, device_count=lambda: count, get_device_properties=lambda i: props
    )
    monkeypatch.setitem(sys.modules, "torch", types.SimpleNamespace(cuda=cuda))
    monkeypatch.setattr(openrlhf, "_gpu_devices_present", lambda: True)


@pytest.mark.parametrize(
    "count,gib,ok,message",
    [
        (8, 80, True, "8 GPU(s) here (Fake GPU); using 8 per node"),
        (4, 80, False, "4 GPU(s) visible here, cluster.gpus_per_node=8"),
        (8, 40, False, "below cluster.min_gpu_memory_gib=70: GPU 0 (Fake GPU): 40 GiB"),
    ],
)
def test_gpu_count_and_memory(monkeypatch, count, gib, ok, message):
    fake_torch(monkeypatch, count, gib)
    (result,) = openrlhf.check_gpus(load_config(), dry_run=False)
    assert result.ok is ok and message in result.detail
