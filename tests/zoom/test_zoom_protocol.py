"""The zoom protocol: box syntax, turn shapes, the episode state machine, transcripts. Pure Python."""

import pytest

from seekworld.chat import QWEN
from seekworld.zoom.protocol import (
    BoxError,
    Refusal,
    TranscriptError,
    ZoomConfig,
    ZoomEpisode,
    answer_turn,
    chat_parts,
    feedback_text,
    format_box,
    parse_box,
    render_transcript,
    transcript_segments,
    zoom_turn,
    zoom_turn_ok,
)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("[0.1, 0.2, 0.5, 0.6]", (0.1, 0.2, 0.5, 0.6)),
        ("  [0,0,1,1] ", (0.0, 0.0, 1.0, 1.0)),  # integers and no spaces
        ("[.25, .25, .75, .75]", (0.25, 0.25, 0.75, 0.75)),  # leading dots
        ("[1.0000001, 0, 1, 1]", None),  # noise above 1 is clamped... then x1 == x2: empty
    ],
)
def test_parse_box_accepts(text, expected):
    if expected is None:
        with pytest.raises(BoxError) as err:
            parse_box(text)
        assert err.value.kind == "empty"
    else:
        assert parse_box(text) == expected


@pytest.mark.parametrize(
    "text, kind",
    [
        ("", "empty"),  # <zoom></zoom>
        ("[0.1, 0.2, 0.5]", "malformed"),  # three numbers
        ("0.1, 0.2, 0.5, 0.6", "malformed"),  # no brackets
        ("[a, b, c, d]", "malformed"),  # not numbers
        ("[0.1, 0.2, 0.5, 0.6, 0.7]", "malformed"),  # five numbers
        ("[100, 200, 300, 400]", "out_of_range"),  # pixels, not fractions
        ("[-0.1, 0.2, 0.5, 0.6]", "out_of_range"),  # negative
        ("[0.5, 0.2, 0.1, 0.6]", "inverted"),  # x2 < x1
        ("[0.1, 0.6, 0.5, 0.2]", "inverted"),  # y2 < y1
        ("[0.3, 0.2, 0.3, 0.6]", "empty"),  # zero width
    ],
)
def test_parse_box_rejects(text, kind):
    with pytest.raises(BoxError) as err:
        parse_box(text)
    assert err.value.kind == kind


def test_format_box_round_trips():
    assert format_box((0.1, 0.25, 0.4, 0.5)) == "[0.1, 0.25, 0.4, 0.5]"
    assert format_box((0, 1, 0.12345, 1.0)) == "[0, 1, 0.123, 1]"
    assert parse_box(format_box((0.1234, 0.2, 0.6789, 0.9))) == (0.123, 0.2, 0.679, 0.9)


@pytest.mark.parametrize(
    "turn, ok",
    [
        ("<think>look</think>\n<zoom>[0.1, 0.1, 0.5, 0.5]</zoom>", True),
        ("<think>look</think><zoom>anything</zoom>", True),  # shape only; the box is judged apart
        ("<zoom>[0.1, 0.1, 0.5, 0.5]</zoom>", False),  # no reasoning
        ("<think> </think><zoom>[0.1, 0.1, 0.5, 0.5]</zoom>", False),  # empty reasoning
        ("text <think>a</think><zoom>[0, 0, 1, 1]</zoom>", False),  # text before the think
        ("<think>a</think>b<zoom>[0, 0, 1, 1]</zoom>", False),  # text between
        ("<think>a</think><zoom>[0, 0, 1, 1]</zoom><zoom>[0, 0, 1, 1]</zoom>", False),  # two zooms
        ("<think>a</think><answer>x</answer><zoom>[0, 0, 1, 1]</zoom>", False),  # an answer too
    ],
)
def test_zoom_turn_shape(turn, ok):
    assert zoom_turn_ok(turn) is ok


def test_a_turn_loses_its_end_tokens():
    episode = ZoomEpisode(ZoomConfig())
    episode.step("<think>x</think><answer>Japan, Osaka</answer><|im_end|>\n<|endoftext|>")
    assert episode.final_turn == "<think>x</think><answer>Japan, Osaka</answer>"


def test_feedback_text_is_a_chat_turn():
    assert feedback_text("Seen.", 1) == (
        "<|im_end|>\n<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>Seen.<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def test_episode_two_zooms_then_answer():
    episode = ZoomEpisode(ZoomConfig(max_crops=4))
    s1 = episode.step(zoom_turn("look", (0.1, 0.1, 0.5, 0.5)))
    assert (s1.kind, s1.n_images, s1.done) == ("zoom", 1, False)
    assert "crop 1 of 4" in s1.observation and s1.box == (0.1, 0.1, 0.5, 0.5)
    s2 = episode.step(zoom_turn("closer", (0.2, 0.2, 0.3, 0.3)))
    assert "crop 2 of 4" in s2.observation
    s3 = episode.step(answer_turn("done", "$Spain,Galicia$") + "<|im_end|>")
    assert (s3.kind, s3.done, s3.feedback) == ("final", True, "")
    assert episode.final_turn == answer_turn("done", "$Spain,Galicia$")
    assert episode.stats() == {
        "zoom_calls": 2.0,
        "invalid_zoom": 0.0,
        "zoom_over_limit": 0.0,
        "zoom_no_budget": 0.0,
        "turns": 3.0,
    }


@pytest.mark.parametrize(
    "box_text, error",
    [
        ("[0.1, 0.2]", "malformed"),
        ("", "empty"),
        ("[0.9, 0.1, 0.2, 0.5]", "inverted"),
        ("[0, 0, 2, 2]", "out_of_range"),
    ],
)
def test_bad_box_gets_an_error_observation_and_no_image(box_text, error):
    episode = ZoomEpisode()
    step = episode.step(f"<think>x</think><zoom>{box_text}</zoom>")
    assert (step.kind, step.error, step.n_images, step.done) == ("invalid", error, 0, False)
    assert step.observation.startswith("Zoom failed:") and "<zoom>[x1, y1, x2, y2]</zoom>" in step.observation
    assert "<|image_pad|>" not in step.feedback
    assert episode.stats()["invalid_zoom"] == 1.0 and episode.zoom_calls == 0


def test_crop_limit_says_answer_now():
    episode = ZoomEpisode(ZoomConfig(max_crops=1))
    first = episode.step(zoom_turn("a", (0, 0, 0.5, 0.5)))
    assert first.kind == "zoom" and "No zooms left" in first.observation  # the last crop says so
    second = episode.step(zoom_turn("b", (0.5, 0.5, 1, 1)))
    assert (second.kind, second.n_images) == ("over_limit", 0)
    assert "Answer now" in second.observation
    assert episode.stats()["zoom_over_limit"] == 1.0


def test_turn_limit_ends_the_episode():
    episode = ZoomEpisode(ZoomConfig(max_crops=1, max_turns=3))
    episode.step(zoom_turn("a", (0, 0, 0.5, 0.5)))
    episode.step(zoom_turn("b", (0, 0, 0.5, 0.5)))
    last = episode.step(zoom_turn("c", (0, 0, 0.5, 0.5)))
    assert last.done and last.feedback == "" and episode.final_turn is None
    with pytest.raises(RuntimeError):
        episode.step("more")


def test_check_refusals():
    episode = ZoomEpisode()
    budget = episode.step(zoom_turn("a", (0, 0, 0.5, 0.5)), check=lambda box: Refusal("budget", "full"))
    assert (budget.kind, budget.n_images) == ("no_budget", 0) and "No room left" in budget.observation
    small = episode.step(zoom_turn("b", (0, 0, 0.01, 0.01)), check=lambda box: Refusal("too_small", "2x2 px"))
    assert (small.kind, small.error) == ("invalid", "too_small") and "2x2 px" in small.observation


def test_transcript_segments_alternate_model_and_environment():
    turns = [zoom_turn("a", (0, 0, 0.5, 0.5)), answer_turn("b", "$Spain,Galicia$")]
    segments = transcript_segments(turns)
    assert [(s.trainable, s.n_images) for s in segments] == [(True, 0), (False, 1), (True, 0)]
    assert segments[-1].text.endswith("</answer><|im_end|>")
    text = render_transcript(turns)
    assert text == turns[0] + segments[1].text + turns[1] + "<|im_end|>"


@pytest.mark.parametrize(
    "turns, message",
    [
        ([zoom_turn("a", (0, 0, 0.5, 0.5))], "must end with the answer"),
        ([answer_turn("a", "x"), answer_turn("b", "y")], "ends the episode"),
        (["<think>a</think><zoom>[2, 2, 3, 3]</zoom>", answer_turn("b", "y")], "not carried out"),
    ],
)
def test_transcript_refuses_what_rl_would_not_produce(turns, message):
    with pytest.raises(TranscriptError, match=message):
        transcript_segments(turns)


def test_chat_parts_match_upstream_rule():
    msgs = [{"role": "system", "content": "S"}, {"role": "user", "content": "<image> Where? "}]
    assert chat_parts(msgs) == [
        {"role": "system", "content": "S"},
        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Where?"}]},
    ]


def test_zoom_config_from_env_and_back():
    cfg = ZoomConfig.from_env({"SEEKWORLD_ZOOM_MAX_CROPS": "2", "SEEKWORLD_ZOOM_TOOL_BONUS": "0.25"})
    assert (cfg.max_crops, cfg.tool_bonus, cfg.turn_limit, cfg.images_per_prompt) == (2, 0.25, 6, 3)
    assert ZoomConfig.from_env(cfg.to_env()) == cfg
    with pytest.raises(ValueError, match="SEEKWORLD_ZOOM_MAX_CROPS"):
        ZoomConfig.from_env({"SEEKWORLD_ZOOM_MAX_CROPS": "many"})
    with pytest.raises(ValueError, match="unknown zoom setting"):
        ZoomConfig.from_mapping({"max_crop": 3})
    assert QWEN.turn_end == "<|im_end|>"
