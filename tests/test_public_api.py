"""The package-top API: `seekworld.score` and `seekworld.parse_answer`."""

from __future__ import annotations

import subprocess
import sys

import pytest

import seekworld
from seekworld.errors import SeekworldError
from seekworld.service.service import RewardService
from seekworld.service.settings import RewardSettings

GOOD = "<think>The plates and the script say Sichuan.</think><answer>China, Sichuan</answer>"


def test_importing_seekworld_loads_only_the_standard_library():
    code = (
        "import sys, seekworld\n"
        "tops = {m.split('.')[0] for m in sys.modules}\n"
        "extra = sorted(tops - set(sys.stdlib_module_names) - {'seekworld'})\n"
        "print(','.join(m for m in extra if not m.startswith('_')))\n"
        "print(','.join(sorted(m for m in sys.modules if m.startswith('seekworld.'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    third_party, submodules = out.stdout.split("\n")[:2]
    assert third_party == "" and submodules == "seekworld._version"  # the version leaf, nothing else


@pytest.mark.parametrize("variant", ["rule", "rule+length", "distance", "rule+distance"])
def test_score_is_what_the_reward_server_pays(variant):
    label = {"country": "China", "region": "Sichuan", "lat": 30.66, "lon": 104.06}
    result = seekworld.score(GOOD, label, reward=variant)
    served = RewardService(RewardSettings(reward=variant).service_config()).reply([GOOD], None, [label])
    assert result.reward == pytest.approx(served["rewards"][0])
    for name, value in result.components.items():
        assert served["extra_logs"][name] == [pytest.approx(value)]


def test_score_gives_components_and_reasons():
    right = seekworld.score(GOOD, "$china,sichuan$")
    assert right.reward == pytest.approx(1.5) and right.components == {"format": 1.0, "accuracy": 1.0}
    assert right.reasons == {} and right.answer.place_id == "CN-SC"
    wrong = seekworld.score("<answer>China, Yunnan</answer>", "$china,sichuan$", weights="format=0")
    assert wrong.reward == 0.0 and wrong.reasons == {"accuracy": "wrong region"}
    half = seekworld.score("<answer>China, Yunnan</answer>", "$china,sichuan$", country_credit=0.3)
    assert half.components["accuracy"] == pytest.approx(0.3)
    bad = seekworld.score(GOOD, "{not a label")
    assert bad.reward == 0.0 and "label" in bad.reasons


@pytest.mark.parametrize(
    "kwargs,words",
    [
        ({"reward": "rulez"}, "rulez"),
        ({"reward": "rule+judge"}, "judge"),
        ({"weights": "accuracy=lots"}, "not a number"),
        ({"country_credit": 5.0}, "country_credit must be <= 1"),
    ],
)
def test_score_refuses_bad_settings_with_a_seekworld_error(kwargs, words):
    with pytest.raises(SeekworldError, match=words):
        seekworld.score(GOOD, "$china,sichuan$", **kwargs)


def test_parse_answer_reads_responses_and_bare_answers():
    assert seekworld.parse_answer(GOOD).place_id == "CN-SC"
    assert seekworld.parse_answer("Spain, Galicia").place_id == "ES-GA"
    assert seekworld.parse_answer("<answer>30.66, 104.06</answer>").coordinates == (30.66, 104.06)
    hedge = seekworld.parse_answer("<answer>Spain or Portugal</answer>")
    assert hedge.hedge and hedge.country_id is None
    two = seekworld.parse_answer("<answer>Spain</answer><answer>France</answer>")
    assert two.error and two.country_id is None and two.place_id is None
