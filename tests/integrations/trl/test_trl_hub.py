"""`trl.push_to_hub` / `trl.hub_model_id` / `trl.hub_private`: mapped onto TRL's own hub arguments
(checked by TRL's GRPOConfig), refused on OpenRLHF, and a token required by the preflight. Nothing
is pushed: no network here."""

from __future__ import annotations

import pytest

from seekworld.integrations.trl.backend import grpo_arguments
from seekworld.integrations.trl.hub import check_hub
from seekworld.train.config import ConfigError, load_config

SMOKE = "examples/configs/trl_cpu_smoke.toml"
PUSH = ["trl.push_to_hub=true", "trl.hub_model_id=geo-lab/seekworld-3b"]


def test_pushing_is_off_by_default():
    args = grpo_arguments(load_config(SMOKE), device="cpu")
    assert "push_to_hub" not in args and "hub_model_id" not in args
    assert check_hub(load_config(SMOKE), token="hf_x") is None


@pytest.mark.slow
def test_trl_takes_the_hub_arguments():
    from trl import GRPOConfig

    args = GRPOConfig(**grpo_arguments(load_config(SMOKE, PUSH), device="cpu"))
    assert args.push_to_hub is True and args.hub_model_id == "geo-lab/seekworld-3b"
    assert args.hub_private_repo is True and args.hub_strategy == "every_save"
    public = grpo_arguments(load_config(SMOKE, [*PUSH, "trl.hub_private=false"]), device="cpu")
    assert public["hub_private_repo"] is False


def test_the_preflight_needs_a_token_and_never_reads_one_from_the_config():
    config = load_config(SMOKE, PUSH)
    ok, detail = check_hub(config, token="")
    assert not ok and "set HF_TOKEN or run `hf auth login`" in detail
    ok, detail = check_hub(config, token="hf_secret")
    assert ok and "geo-lab/seekworld-3b (private)" in detail and "hf_secret" not in detail
    _, unnamed = check_hub(load_config(SMOKE, ["trl.push_to_hub=true"]), token="hf_x")
    assert "<the token's account>/trl-cpu-smoke (private)" in unnamed


@pytest.mark.parametrize("repo", ["geo lab/x", "a/b/c", "/x", "x/", "-x"])
def test_a_repository_id_the_hub_refuses_is_refused(repo):
    with pytest.raises(ConfigError, match=r"trl\.hub_model_id="):
        load_config(SMOKE, ["trl.push_to_hub=true", f"trl.hub_model_id={repo}"])


def test_openrlhf_points_to_its_hugging_face_folders_instead():
    with pytest.raises(ConfigError, match=r"trl\.push_to_hub is for backend=trl; OpenRLHF writes"):
        load_config(None, ["trl.push_to_hub=true"])
