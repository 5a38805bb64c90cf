"""The attention and dtype choice (seekworld.train.gpu_support), shared by both backends.

The `Gpu` values here describe GPUs (name and compute capability, as torch reports them); nothing
runs on a GPU. The probes themselves (`local_gpu`, `flash_attn_imports`) run for real on this
CPU machine: no GPU, flash_attn not installed.
"""

from __future__ import annotations

import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seekworld.train import gpu_support as gs
from seekworld.train.config import load_config
from seekworld.train.gpu_support import Choice, Gpu, check_gpu_fit, choose_attention, choose_dtype

A100 = Gpu("NVIDIA A100-SXM4-80GB", (8, 0))
H100 = Gpu("NVIDIA H100 80GB HBM3", (9, 0))
T4 = Gpu("Tesla T4", (7, 5))


@pytest.mark.parametrize(
    ("requested", "gpu", "flash", "expected"),
    [
        ("auto", A100, True, "flash_attention_2"),
        ("auto", H100, True, "flash_attention_2"),
        ("auto", Gpu("NVIDIA RTX PRO 6000", (12, 0)), True, "flash_attention_2"),
        ("auto", T4, True, "sdpa"),  # flash_attn installed, but no sm75 kernels
        ("auto", A100, False, "sdpa"),  # not importable
        ("auto", None, True, "sdpa"),  # no GPU here
        ("eager", A100, True, "eager"),  # named: kept
        ("flash_attention_2", T4, False, "flash_attention_2"),  # named: kept (the user asked)
    ],
)
def test_attention_choice(requested, gpu, flash, expected):
    assert choose_attention(requested, gpu, flash).value == expected


def test_each_fallback_says_why():
    assert "Tesla T4 is sm75; flash-attn 2 needs sm80" in choose_attention("auto", T4, True).reason
    assert choose_attention("auto", T4, True).fallback
    assert "does not import" in choose_attention("auto", A100, False).reason
    assert not choose_attention("auto", A100, True).fallback


@given(major=st.integers(0, 15), minor=st.integers(0, 9), flash=st.booleans(), name=st.text(max_size=20))
def test_flash_attention_only_on_sm80_and_up_with_flash_attn(major, minor, flash, name):
    choice = choose_attention("auto", Gpu(name, (major, minor)), flash)
    assert (choice.value == "flash_attention_2") == (flash and major >= 8)
    assert choice.value in ("flash_attention_2", "sdpa")


@pytest.mark.parametrize(
    ("requested", "gpu", "expected"),
    [
        ("bf16", A100, "bfloat16"),
        ("bf16", T4, "float16"),  # no bfloat16 arithmetic below sm80
        ("fp16", T4, "float16"),
        ("fp16", H100, "float16"),
        ("bfloat16", None, "bfloat16"),  # no GPU here: nothing to decide against
        ("float32", T4, "float32"),
    ],
)
def test_dtype_choice(requested, gpu, expected):
    assert choose_dtype(requested, gpu).value == expected


def test_trl_dtype_follows_the_device_and_the_gpu():
    auto = load_config(overrides=["backend=trl"])
    assert gs.trl_dtype(auto, "cpu", None).value == "float32"
    assert gs.trl_dtype(auto, "cuda", A100).value == "bfloat16"
    fp16 = gs.trl_dtype(auto, "cuda", T4)
    assert fp16.value == "float16" and "bfloat16 needs sm80" in fp16.reason
    named = load_config(overrides=["backend=trl", "trl.dtype=float32"])
    assert gs.trl_dtype(named, "cuda", T4).value == "float32"


def test_preflight_reports_both_choices_and_refuses_openrlhf_below_sm80():
    config = load_config()
    ok = check_gpu_fit(config, A100, True)
    assert ok.ok and ok.detail.startswith("attention flash_attention_2 (") and "dtype bfloat16" in ok.detail
    t4 = check_gpu_fit(config, T4, True)
    assert not t4.ok and "runs vLLM in bfloat16" in t4.detail and "backend=trl" in t4.detail
    missing = check_gpu_fit(config, A100, False)
    assert missing.ok and missing.warning and "sdpa" in missing.detail
    trl = load_config(overrides=["backend=trl"])
    on_t4 = check_gpu_fit(trl, T4, True, device="cuda")
    assert on_t4.ok and "attention sdpa" in on_t4.detail and "dtype float16" in on_t4.detail
    asked = load_config(overrides=["backend=trl", "trl.dtype=bfloat16"])
    refused = check_gpu_fit(asked, T4, True, device="cuda")
    assert not refused.ok and "set trl.dtype=auto" in refused.detail
    cpu = check_gpu_fit(trl, None, False, device="cpu")
    assert cpu.ok and cpu.detail == "attention sdpa (no CUDA GPU visible here); dtype float32 (on the CPU)"


def test_a_choice_is_logged_once_and_a_fallback_as_a_warning(caplog, monkeypatch):
    monkeypatch.setattr(gs, "_logged", set())
    caplog.set_level(logging.INFO, logger=gs.__name__)
    choice = choose_attention("auto", T4, True)
    for _ in range(3):
        assert gs.log_once("attention", choice) is choice
    records = [r for r in caplog.records if r.name == gs.__name__]
    assert len(records) == 1 and records[0].levelno == logging.WARNING
    assert records[0].getMessage() == f"attention: {choice}"
    gs.log_once("dtype", Choice("bfloat16", "as configured"))
    assert caplog.records[-1].levelno == logging.INFO


def test_the_probes_on_this_machine_find_no_gpu():
    # This machine has no NVIDIA driver: no device node, so torch is not even imported.
    if gs._gpu_devices_present():
        pytest.skip("a GPU device node is present here")
    assert gs.local_gpu() is None
    assert gs.probe() == (None, False)


def test_a_flash_attn_that_fails_to_import_is_not_chosen(tmp_path, monkeypatch, caplog):
    # A stand-in for a flash-attn built against another torch: the package is found, its import fails.
    (tmp_path / "flash_attn").mkdir()
    (tmp_path / "flash_attn" / "__init__.py").write_text(
        "raise ImportError('flash_attn_2_cuda.so: undefined symbol: _ZN3c10')\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(__import__("sys").modules, "flash_attn", raising=False)
    assert gs.flash_attn_imports() is False
    assert "does not import: ImportError: flash_attn_2_cuda.so: undefined symbol" in caplog.text
