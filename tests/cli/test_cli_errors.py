"""Every subcommand: a missing input, an unwritable output or an unreadable file is one line on
stderr (`seekworld CMD: message`) and exit 2, never a traceback; nothing is half-written."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from seekworld.cli.main import main
from seekworld.errors import SeekworldError, UnknownNameError

REPO = Path(__file__).resolve().parents[2]
NO_DIR = "/no/such/dir"

# (name, argv) with {tmp} = a fresh folder holding bad.jsonl (not JSON), bad.jpg (not an image),
# good.jsonl (a scoreable row) and nothing else.
CASES = [
    ("score: missing input", ["score", "--input", "{tmp}/missing.jsonl"]),
    ("score: unwritable output", ["score", "--input", "{tmp}/good.jsonl", "--output", f"{NO_DIR}/x.jsonl"]),
    ("eval: missing data", ["eval", "--data", "{tmp}/missing.jsonl", "--engine", "openai", "--model", "m"]),
    (
        "eval: data not JSON",
        ["eval", "--data", "{tmp}/bad.jsonl", "--engine", "openai", "--model", "m", "--output", "{tmp}/run"],
    ),
    ("eval: missing table run", ["eval", "--table", "{tmp}/no_run"]),
    ("eval: missing compare runs", ["eval", "--compare", "{tmp}/a", "{tmp}/b"]),
    ("predict: missing photo", ["predict", "{tmp}/missing.jpg"]),
    ("predict: not a photo", ["predict", "{tmp}/bad.jpg"]),
    ("prepare: missing input", ["prepare", "--input", "{tmp}/missing.jsonl", "--output", "{tmp}/out"]),
    (
        "prepare: missing template",
        [
            "prepare",
            "--input",
            "{tmp}/good.jsonl",
            "--output",
            "{tmp}/out",
            "--prompt-template",
            "{tmp}/missing.json",
        ],
    ),
    ("sft: missing config", ["sft", "--config", "{tmp}/missing.toml"]),
    ("sft: missing data", ["sft", "--dry-run", "--set", "data.train={tmp}/missing.jsonl"]),
    ("sft: data not JSON", ["sft", "--dry-run", "--set", "data.train={tmp}/bad.jsonl"]),
    (
        "traces prepare: missing input",
        ["traces", "prepare", "--input", "{tmp}/missing.jsonl", "--output", "{tmp}/out"],
    ),
    (
        "traces collect: missing input",
        ["traces", "collect", "--input", "{tmp}/missing.jsonl", "--output", "{tmp}/t.jsonl", "--model", "m"],
    ),
    (
        "traces collect: input not JSON",
        ["traces", "collect", "--input", "{tmp}/bad.jsonl", "--output", "{tmp}/t.jsonl", "--model", "m"],
    ),
    (
        "traces collect: key variable unset",
        [
            "traces",
            "collect",
            "--input",
            "{tmp}/good.jsonl",
            "--output",
            "{tmp}/t.jsonl",
            "--model",
            "m",
            "--api-key-env",
            "SEEKWORLD_TEST_UNSET_KEY",
        ],
    ),
    (
        "traces prompt-template: unwritable output",
        ["traces", "prompt-template", "--output", f"{NO_DIR}/p.json"],
    ),
    ("serve: log dir under a file", ["serve", "--log-dir", "{tmp}/good.jsonl/audit", "--port", "1"]),
    ("train: missing config", ["train", "--config", "{tmp}/missing.toml"]),
    ("train: config not TOML", ["train", "--dry-run", "--config", "{tmp}/bad.jsonl"]),
]


@pytest.fixture
def files(tmp_path):
    (tmp_path / "bad.jsonl").write_text("not json\n")
    (tmp_path / "bad.jpg").write_bytes(b"not an image")
    (tmp_path / "good.jsonl").write_text('{"response": "x", "label": "$japan,osaka$"}\n')
    return tmp_path


@pytest.mark.parametrize("argv", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_paths_are_one_line_exit_2(argv, files, capsys, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "unused")  # collect builds its client before reading
    argv = [a.replace("{tmp}", str(files)) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    command = " ".join(a for a in argv[:2] if not a.startswith("-") and "/" not in a)
    # A progress bar may have been drawn (lines of \r redraws); the error is one line of its own.
    lines = [line for line in err.split("\n") if line and "\r" not in line]
    assert len(lines) == 1 and lines[0].startswith(f"seekworld {command}: "), err
    assert "Traceback" not in err, err
    # Nothing half-made: a failed check creates no output folder.
    assert not (files / "out").exists() and not (files / "run").exists()


def test_every_subcommand_is_covered():
    from seekworld.cli.main import SUBCOMMANDS

    # reward-func-path reads nothing; demo takes predict's engine flags and no file of its own.
    covered = {c[1][0] for c in CASES} | {"reward-func-path", "demo"}
    assert covered == set(SUBCOMMANDS)


def test_unknown_name_is_a_key_error_and_a_seekworld_error():
    exc = UnknownNameError("Unknown engine 'x'.")
    assert isinstance(exc, KeyError) and isinstance(exc, SeekworldError)
    assert str(exc) == "Unknown engine 'x'."  # not KeyError's quoted repr


_BUILTIN_ERRORS = {"Exception", "ValueError", "RuntimeError", "KeyError", "OSError", "TypeError"}
_OUR_BASES = {"SeekworldError", "UnknownNameError", "UsageError"}


def test_every_public_exception_derives_from_seekworld_error():
    """Read from the source (importing every module would start services): a public class that
    derives from a builtin error also names SeekworldError or another seekworld error."""
    import ast

    offenders = []
    for path in sorted((REPO / "seekworld").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef) or node.name.startswith("_"):
                continue
            bases = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases}
            if bases & _BUILTIN_ERRORS and not bases & _OUR_BASES and node.name != "SeekworldError":
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno} {node.name}")
    assert not offenders, offenders


def test_prepare_missing_input_is_not_glued_to_the_progress_bar(files):
    """With the progress bar on, the error still starts its own line, and no folder is left."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "seekworld",
            "prepare",
            "--input",
            str(files / "missing.jsonl"),
            "--output",
            str(files / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert any(line.startswith("seekworld prepare: input ") for line in lines), proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (files / "out").exists()


def test_prepare_error_mid_run_closes_the_bar_first(files):
    """An input that fails after the bar has started: the bar's line ends before the message."""
    (files / "t.jsonl").write_text('{"message": "x", "answer": "y"}\n')  # a table row without images
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "seekworld",
            "prepare",
            "--input",
            str(files / "t.jsonl"),
            "--input-format",
            "table",
            "--output",
            str(files / "out2"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert any(line.startswith("seekworld prepare: ") for line in proc.stderr.splitlines()), proc.stderr


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_predict_fails_fast_when_the_hub_is_unreachable(files, tmp_path):
    """Not cached + the hub does not answer: a clean error in seconds (not minutes of retries)."""
    pytest.importorskip("transformers")
    pytest.importorskip("huggingface_hub")
    from helpers.prepare_data import make_image

    photo = make_image(files / "p.jpg")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(REPO), str(REPO / "tests"), os.environ.get("PYTHONPATH")])
        ),
        "HF_ENDPOINT": f"http://127.0.0.1:{_closed_port()}",
        "HF_HOME": str(tmp_path / "hf_home"),  # an empty cache
        "HF_HUB_OFFLINE": "0",
    }
    env.pop("HF_HUB_CACHE", None)
    env.pop("TRANSFORMERS_CACHE", None)
    start = time.monotonic()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "seekworld",
            "predict",
            str(photo),
            "--model",
            "someone/not-cached-vl",
            "--device",
            "cpu",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    elapsed = time.monotonic() - start
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("seekworld predict: someone/not-cached-vl is not in the local"), proc.stderr
    assert "cannot be reached" in proc.stderr and proc.stderr.count("\n") == 1
    assert elapsed < 60, elapsed  # generous for a loaded CI box; the retrying path took ~150 s


def test_predict_offline_mode_says_so(files, tmp_path, monkeypatch):
    pytest.importorskip("huggingface_hub")
    from huggingface_hub import constants

    from seekworld.eval.engines import EngineUnavailable, check_model_reachable

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "cache"))
    with pytest.raises(EngineUnavailable, match="HF_HUB_OFFLINE is set"):
        check_model_reachable("someone/not-cached-vl")
    check_model_reachable(str(files))  # a local folder is never probed
