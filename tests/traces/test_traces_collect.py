"""`seekworld traces collect`: rejection sampling through the zoom protocol against an
OpenAI-compatible endpoint (here a scripted stand-in for the `openai` client)."""

import json
from dataclasses import replace
from types import SimpleNamespace

from helpers.zoom import ZOOM, prepare_rows

from seekworld.traces.collect import CollectConfig, OpenAIEngine, collect
from seekworld.zoom.protocol import answer_turn


class ScriptedClient:
    """Stand-in for `openai.OpenAI`: replies with scripted (text, finish_reason) in order."""

    def __init__(self, script):
        self.script = list(script)
        self.requests = []
        self.chat = SimpleNamespace(completions=self)

    def create(self, **kwargs):
        self.requests.append(kwargs)
        text, reason = self.script.pop(0)
        choice = SimpleNamespace(message=SimpleNamespace(content=text), finish_reason=reason)
        return SimpleNamespace(choices=[choice])


# The API drops the stop string: a zoom turn comes back without "</zoom>".
ZOOM_REPLY = ("<think>The sign is small.</think>\n<zoom>[0.1, 0.1, 0.5, 0.5]", "stop")
RIGHT = (answer_turn("It reads Santiago.", "$Spain,Galicia$"), "stop")
WRONG = (answer_turn("Looks Portuguese.", "$Portugal,Porto$"), "stop")


def _run(tmp_path, script, **overrides):
    rows = prepare_rows(tmp_path / "data")
    config = CollectConfig(model="strong-vlm", tries=2, workers=1, zoom=ZOOM, **overrides)
    client = ScriptedClient(script)
    out = tmp_path / "traces.jsonl"
    stats = collect(rows, out, config, engine=OpenAIEngine(config, client=client))
    return stats, client, out


def test_keeps_the_first_correct_episode(tmp_path):
    stats, client, out = _run(tmp_path, [ZOOM_REPLY, WRONG, ZOOM_REPLY, RIGHT])
    assert (stats["kept"], stats["wrong_answer"], stats["attempts"]) == (1, 1, 2)
    (trace,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert trace["steps"] == [
        {"text": "The sign is small.", "zoom": [0.1, 0.1, 0.5, 0.5]},
        {"text": "It reads Santiago."},
    ]
    assert trace["answer"] == "$Spain,Galicia$" and trace["source"] == "openai:strong-vlm"
    assert all(r["stop"] == ["</zoom>"] for r in client.requests)
    second = client.requests[1]["messages"]  # after the zoom: the crop comes back as an image
    assert second[2]["content"].endswith("</zoom>")  # the stop string is put back
    assert second[3]["content"][0]["type"] == "image_url"
    assert "Zoomed in on [0.1, 0.1, 0.5, 0.5]" in second[3]["content"][1]["text"]
    assert "<zoom>" in second[0]["content"]  # the system prompt explains the tool

    # A rerun skips what is already collected.
    stats, client, _ = _run(tmp_path, [])
    assert stats["skipped"] == 1 and client.requests == []


def test_a_trace_needs_a_zoom_by_default(tmp_path):
    stats, _, out = _run(tmp_path, [RIGHT, RIGHT])
    assert (stats["kept"], stats["too_few_zooms"]) == (0, 2)
    assert not out.exists() or out.read_text() == ""
    stats, _, _ = _run(tmp_path / "b", [RIGHT], min_zooms=0)
    assert stats["kept"] == 1


def test_collected_traces_prepare_into_the_same_turns(tmp_path):
    from seekworld.prepare.pipeline import PrepareConfig
    from seekworld.traces.prepare import prepare_traces

    _, _, out = _run(tmp_path, [ZOOM_REPLY, RIGHT])
    prepare_traces(PrepareConfig(inputs=[("sft", str(out))], output=tmp_path / "sft", progress=False), ZOOM)
    (row,) = [json.loads(line) for line in (tmp_path / "sft" / "sft.jsonl").read_text().splitlines()]
    assert row["turns"] == ["<think>The sign is small.</think>\n<zoom>[0.1, 0.1, 0.5, 0.5]</zoom>", RIGHT[0]]
    assert len(row["images"]) == 2


def test_engine_errors_are_counted_not_raised(tmp_path):
    class Broken(ScriptedClient):
        def create(self, **kwargs):
            raise TimeoutError("endpoint down")

    rows = prepare_rows(tmp_path / "data")
    config = replace(CollectConfig(model="m", tries=2, workers=1), zoom=ZOOM)
    stats = collect(rows, tmp_path / "t.jsonl", config, engine=OpenAIEngine(config, client=Broken([])))
    assert (stats["error"], stats["kept"]) == (2, 0)
