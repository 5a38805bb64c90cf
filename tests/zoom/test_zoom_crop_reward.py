"""Crops (pixel rectangle, upscale, budget) and the multi-turn reward (format, accuracy, bonus)."""

import pytest
from PIL import Image

from seekworld.prepare.images import visual_tokens
from seekworld.rewards.judge import JudgeResult
from seekworld.rewards.variants import RewardConfig
from seekworld.zoom.crop import box_pixels, check_box, crop, crop_size, load_image
from seekworld.zoom.protocol import ZoomConfig, ZoomEpisode, answer_turn, zoom_turn
from seekworld.zoom.reward import format_score, log_keys, score_episode

GOLD = {"country": "Spain", "region": "Galicia"}


def test_box_pixels_cover_the_box():
    assert box_pixels((0.1, 0.2, 0.5, 0.6), 200, 100) == (20, 20, 100, 60)
    assert box_pixels((0.0, 0.0, 1.0, 1.0), 7, 5) == (0, 0, 7, 5)
    assert box_pixels((0.999, 0.999, 1.0, 1.0), 10, 10) == (9, 9, 10, 10)  # never empty


def test_check_box_refuses_tiny_boxes():
    cfg = ZoomConfig(min_box_px=8)
    assert check_box((0.0, 0.0, 0.5, 0.5), (100, 100), cfg) is None
    refusal = check_box((0.0, 0.0, 0.05, 0.5), (100, 100), cfg)
    assert refusal is not None and refusal.kind == "too_small" and "5x50" in refusal.message


def test_small_crops_are_upscaled_and_large_ones_fit_the_budget():
    cfg = ZoomConfig(crop_min_side=224, crop_max_pixels=256 * 28 * 28)
    assert crop_size(40, 30, cfg) == (299, 224)  # short side brought to 224
    w, h = crop_size(4000, 3000, cfg)
    assert visual_tokens(h, w) <= 256 and w % 28 == 0 and h % 28 == 0  # within budget, Qwen-aligned
    img = Image.new("RGB", (400, 300), (10, 20, 30))
    tile = crop(img, (0.0, 0.0, 0.1, 0.1), cfg)
    assert tile.size == (299, 224)  # 40x30 pixels of the original


def test_load_image_applies_exif_orientation(tmp_path):
    img = Image.new("RGB", (40, 20), (200, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90°: the upright picture is 20 wide, 40 high
    img.save(tmp_path / "r.jpg", exif=exif)
    assert load_image(tmp_path / "r.jpg").size == (20, 40)


def _episode(turns, max_crops=4):
    episode = ZoomEpisode(ZoomConfig(max_crops=max_crops))
    for t in turns:
        episode.step(t)
    return episode


ZOOM = zoom_turn("sign", (0.1, 0.1, 0.5, 0.5))
RIGHT = answer_turn("Galician sign", "$Spain,Galicia$")
WRONG = answer_turn("Portuguese?", "$Portugal,Porto$")


@pytest.mark.parametrize(
    "turns, expected",
    [
        ([ZOOM, RIGHT], 1.0),  # a zoom, then the answer
        ([RIGHT], 1.0),  # no zoom is fine for the format
        ([ZOOM, ZOOM, RIGHT], 1.0),
        (["<zoom>[0.1, 0.1, 0.5, 0.5]</zoom>", RIGHT], 0.0),  # zoom turn without reasoning
        (["<think>a</think><zoom>[0.5, 0.1, 0.1, 0.5]</zoom>", RIGHT], 0.0),  # an invalid box
        ([ZOOM, "<think>a</think>"], 0.0),  # the final turn has no answer
        ([ZOOM, RIGHT + " trailing"], 0.0),  # text after the answer
        ([ZOOM], 0.0),  # cut before the answer
    ],
)
def test_multi_turn_format(turns, expected):
    episode = ZoomEpisode(ZoomConfig(max_turns=len(turns)))
    for t in turns:
        episode.step(t)
    assert format_score(episode) == expected


def test_zoom_past_the_limit_breaks_the_format():
    assert format_score(_episode([ZOOM, ZOOM, RIGHT], max_crops=1)) == 0.0


def test_rule_reward_with_tool_bonus_only_when_right():
    cfg, zoom = RewardConfig.from_variant("rule"), ZoomConfig(tool_bonus=0.3)
    right = score_episode(_episode([ZOOM, RIGHT]), GOLD, cfg, zoom)
    assert (right.reward, right.logs["accuracy"], right.logs["format"]) == (pytest.approx(1.8), 1.0, 1.0)
    assert right.logs["tool_bonus"] == 0.3 and right.logs["zoom_calls"] == 1.0
    wrong = score_episode(_episode([ZOOM, ZOOM, WRONG]), GOLD, cfg, zoom)
    assert (wrong.reward, wrong.logs["tool_bonus"]) == (0.5, 0.0)  # format only: no pay for crops
    no_zoom = score_episode(_episode([RIGHT]), GOLD, cfg, zoom)
    assert no_zoom.reward == 1.5  # right, but no crop: no bonus
    many = score_episode(_episode([ZOOM, ZOOM, ZOOM, RIGHT]), GOLD, cfg, zoom)
    assert many.reward == right.reward  # more crops earn no more


class StandInJudge:
    """Stands in for the judge client (no endpoint): every sample gets `score`."""

    def __init__(self, score):
        self.score, self.items = score, []

    def score_many(self, items, budget_s=None, deadline=None):
        self.items += items
        return [JudgeResult(self.score) for _ in items]


def test_same_log_keys_for_every_outcome():
    cfg = RewardConfig.from_variant("rule+judge")
    judge = StandInJudge(1.0)
    outcomes = [
        score_episode(_episode([ZOOM, RIGHT]), GOLD, cfg, judge=judge),
        score_episode(_episode([ZOOM]), GOLD, cfg),
        score_episode(_episode([RIGHT]), "", cfg),  # unreadable label
    ]
    for s in outcomes:
        assert list(s.logs) == log_keys(cfg)
        assert all(isinstance(v, float) for v in s.logs.values())
    assert outcomes[0].reward == pytest.approx(0.5 + 2.0 + 1.0)
    # the judge saw every turn's reasoning and the answer as the verifier read it
    (item,) = judge.items
    assert item.reasoning == "sign\n\nGalician sign" and item.answer == "Spain, Galicia"
    assert outcomes[2].reward == 0.0 and outcomes[2].label_error and outcomes[2].logs["label_error"] == 1.0


def test_episode_reasoning_reads_each_turn_by_the_single_turn_rule():
    from seekworld.zoom.reward import episode_reasoning

    assert episode_reasoning(_episode([ZOOM, RIGHT])) == "sign\n\nGalician sign"
    # A turn stuffed with several think blocks gets none of them judged (as in the single-turn reward).
    stuffed = "<think>a</think><think>b</think>\n<zoom>[0.1, 0.1, 0.5, 0.5]</zoom>"
    assert episode_reasoning(_episode([stuffed, RIGHT])) == "Galician sign"
