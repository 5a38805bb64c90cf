"""Traces: the JSONL schema, traces -> turns -> traces, `prepare --input-format traces` rows and
rejections, the shipped sample traces and the `seekworld traces` CLI."""

import json
from pathlib import Path

import pytest
from helpers.zoom import ZOOM, make_photo, prepare_rows, trace_obj, write_traces

from seekworld.traces.schema import TraceError, parse_trace, trace_from_turns, trace_turns
from seekworld.zoom.protocol import answer_turn, zoom_turn

REPO = Path(__file__).resolve().parents[2]


def _parse(**overrides):
    obj = {**trace_obj("/x/photo.png"), **overrides}
    return parse_trace(obj, "t:1", Path("/"), "t-1")


def test_trace_turns_group_text_before_each_zoom():
    trace = _parse(
        steps=[
            {"text": "Road."},
            {"text": "A sign; zoom.", "zoom": [0.1, 0.1, 0.5, 0.5]},
            {"text": "Cyrillic."},
            {"text": "It says Moscow."},
        ],
        answer="<answer>$Russia,Moscow$</answer>",
    )
    assert trace_turns(trace) == [
        zoom_turn("Road.\n\nA sign; zoom.", (0.1, 0.1, 0.5, 0.5)),
        answer_turn("Cyrillic.\n\nIt says Moscow.", "$Russia,Moscow$"),  # answer tags removed
    ]
    steps, answer = trace_from_turns(trace_turns(trace))
    assert [(s.text, s.zoom) for s in steps] == [
        ("Road.\n\nA sign; zoom.", (0.1, 0.1, 0.5, 0.5)),
        ("Cyrillic.\n\nIt says Moscow.", None),
    ]
    assert answer == "$Russia,Moscow$"


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"steps": []}, "non-empty list"),
        ({"steps": [{"text": "a", "zoom": [0.1, 0.2, 0.3]}]}, "four numbers"),
        ({"steps": [{"text": "a", "zoom": [0.5, 0.1, 0.2, 0.9]}, {"text": "b"}]}, "x1 < x2"),
        ({"steps": [{"text": "a", "zoom": [0, 0, 120, 80]}, {"text": "b"}]}, "fractions"),
        ({"steps": [{"text": "<think>a</think>"}]}, "tags"),
        ({"answer": ""}, "'answer'"),
        ({"image": 3}, "'image'"),
    ],
)
def test_bad_traces_are_refused(overrides, message):
    with pytest.raises(TraceError, match=message):
        _parse(**overrides)


def test_trace_ending_on_a_zoom_has_no_final_reasoning():
    trace = _parse(steps=[{"text": "a", "zoom": [0.1, 0.1, 0.5, 0.5]}])
    with pytest.raises(TraceError, match="last step zooms"):
        trace_turns(trace)


ZOOM_STEP = {"text": "z", "zoom": [0, 0, 0.5, 0.5]}


def test_prepare_rejects_with_reasons(tmp_path):
    photo = str(make_photo(tmp_path / "p.png"))
    objs = [
        trace_obj(photo, id="ok"),
        trace_obj(str(tmp_path / "missing.png"), id="no-file"),
        trace_obj(photo, id="bad-label", label=""),
        trace_obj(photo, id="tiny-box", steps=[{"text": "a", "zoom": [0.1, 0.1, 0.11, 0.11]}, {"text": "b"}]),
        trace_obj(photo, id="too-many", steps=[ZOOM_STEP] * 5 + [{"text": "b"}]),
    ]
    rows = prepare_rows(tmp_path, objs)
    assert [r["id"] for r in rows] == ["ok"]
    rejected = {
        r["id"]: (r["reason"], r["detail"])
        for r in map(json.loads, (tmp_path / "out" / "rejected.jsonl").read_text().splitlines())
    }
    assert rejected["no-file"][0] == "missing_file"
    assert rejected["bad-label"][0] == "malformed_row"  # an empty label is not a label object/string
    assert rejected["tiny-box"] == ("malformed_row", rejected["tiny-box"][1])
    assert "pixels" in rejected["tiny-box"][1]
    assert "over_limit" in rejected["too-many"][1]
    label = json.loads(rows[0]["label"])
    assert label["image"] == rows[0]["images"][0] and label["lat"] == 42.88  # the agent crops this image
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["splits"]["sft"]["rows"] == 1 and report["splits"]["sft"]["rejected"] == 4


def test_prepare_twice_reuses_images(tmp_path):
    first = prepare_rows(tmp_path)
    second = prepare_rows(tmp_path)
    assert first == second
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["splits"]["sft"]["images"]["reused"] == 3


def test_sample_traces_prepare_cleanly(tmp_path):
    from seekworld.prepare.pipeline import PrepareConfig
    from seekworld.traces.prepare import prepare_traces

    traces = REPO / "seekworld_data" / "sample" / "traces.jsonl"
    cfg = PrepareConfig(inputs=[("sft", str(traces))], output=tmp_path, progress=False)
    report = prepare_traces(cfg, ZOOM)
    assert report["splits"]["sft"]["rows"] == 4 and report["splits"]["sft"]["rejected"] == 0


def test_cli_traces_prepare_and_prompt_template(tmp_path, capsys):
    from seekworld.cli.main import main

    photo = make_photo(tmp_path / "p.png")
    traces = write_traces(tmp_path / "t.jsonl", [trace_obj(str(photo))])
    out = str(tmp_path / "o")
    assert main(["traces", "prepare", "--input", str(traces), "--output", out, "--max-crops", "3"]) == 0
    row = json.loads((tmp_path / "o" / "sft.jsonl").read_text().splitlines()[0])
    assert row["zoom"]["max_crops"] == 3 and "(crop 1 of 3)" in json.dumps(row["messages"])
    assert main(["traces", "prompt-template", "--max-crops", "3"]) == 0
    template = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert "at most 3 times" in template["system"] and template["question"]


def test_prepare_cli_dispatches_traces_format(tmp_path):
    """`seekworld prepare --input-format traces` runs the traces pipeline on the shipped sample."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    sample = Path(__file__).resolve().parents[2] / "seekworld_data" / "sample" / "traces.jsonl"
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "seekworld", "prepare", "--input-format", "traces", "--input", str(sample)]
    proc = subprocess.run(
        [*cmd, "--output", str(out), "--split", "sft", "--no-progress"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in (out / "sft.jsonl").read_text().splitlines()]
    assert rows and all("<zoom>" in json.dumps(r, ensure_ascii=False) for r in rows)
