"""`seekworld eval` with the openai engine against a loopback stand-in that answers per image.

Every number in report.json is checked against counts worked out by hand from the scripted
answers below; retries (a 500, a slow reply), failures and resuming are checked by the stand-in's
request counts.
"""

import json
import math
import socket
import time
from pathlib import Path

import pytest
from helpers.openai_standin import image_key

from seekworld.cli.main import main
from seekworld.eval.engines import EngineOptions, GenParams
from seekworld.eval.runner import EvalConfig, EvalError, run_eval
from seekworld.rewards.distance import MAX_DISTANCE_KM, geoguessr_score, haversine_km

T = "<think>signs and plates</think>"
# (label, difficulty, scripted reply): accuracy / country / format worked out by hand in comments.
GLOBAL = [
    ("$china,sichuan$", "easy", f"{T}<answer>China, Sichuan</answer>"),  # 1 / 1 / 1
    ("$japan,osaka$", "medium", "<answer>Japan, Osaka</answer>"),  # 1 / 1 / 0 (no think)
    ("$germany,bavaria$", "hard", f"{T}<answer>Germany, Berlin</answer>"),  # 0 / 1 / 1
    ("$brazil,bahia$", "hard", f"{T}<answer>Brazil, Bahia</answer>"),  # 1 / 1 / 1 (after a 500)
    ("$united states,california$", "easy", f"{T}<answer>USA or Canada</answer>"),  # 0 / 0 / 1 (hedge; slow)
]
CHINA = [
    ("$china,guangdong$", "easy", f"{T}<answer>中国，广东省</answer>"),  # 1 / 1 / 1
    ("$china,henan$", "medium", f"{T}<answer>China, Hunan</answer>"),  # 0 / 1 / 1
    ("$china,yunnan$", "hard", "Probably Yunnan."),  # 0 / 0 / 0 (no answer block)
]


def _rows(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def _setup(write_rows, stand_in):
    g = write_rows("Global-Test", [{"label": lab, "difficulty": d} for lab, d, _ in GLOBAL])
    c = write_rows("China-Test", [{"label": lab, "difficulty": d} for lab, d, _ in CHINA])
    rows = _rows(g) + _rows(c)
    for row, (_, _, reply) in zip(rows, GLOBAL + CHINA, strict=True):
        stand_in.script[image_key(row["images"][0])] = [reply]
    return g, c, rows


def _config(out, data, stand_in, **kw):
    engine = {"engine": "openai", "model": "stand-in", "base_url": stand_in.url, "concurrency": 4}
    engine.update(kw.pop("engine", {}))
    return EvalConfig(
        data=tuple(str(d) for d in data),
        output=str(out),
        engine=EngineOptions(**{"timeout_s": 5.0, "retries": 2, "retry_backoff_s": 0.01, **engine}),
        progress=False,
        **kw,
    )


def _brackets(est):
    lo, hi = est["ci"]
    assert lo <= est["value"] <= hi, est


def test_report_numbers_match_hand_counts(tmp_path, write_rows, stand_in):
    g, c, rows = _setup(write_rows, stand_in)
    brazil, usa = image_key(rows[3]["images"][0]), image_key(rows[4]["images"][0])
    stand_in.script[brazil] = [("status", 500), GLOBAL[3][2]]  # retried after a 500
    stand_in.script[usa] = [("sleep", 1.5, "late"), GLOBAL[4][2]]  # retried after a timeout
    cfg = _config(tmp_path / "run", [g, c], stand_in, engine={"timeout_s": 0.5})
    report = run_eval(cfg)

    assert stand_in.calls[brazil] == 2 and stand_in.calls[usa] == 2
    assert report["missing"] == 0 and report["n_predictions"] == 8 and report["n_rows"] == 8
    assert report["datasources"] == ["Global-Test", "China-Test"]
    acc = report["accuracy"]
    assert acc["by_datasource"]["Global-Test"]["value"] == pytest.approx(3 / 5)
    assert acc["by_datasource"]["China-Test"]["value"] == pytest.approx(1 / 3)
    assert acc["overall"]["value"] == pytest.approx(4 / 8)  # pooled: (3 + 1) / (5 + 3)
    assert [acc["by_datasource"][d]["n"] for d in ("Global-Test", "China-Test")] == [5, 3]
    assert {k: v["value"] for k, v in acc["by_difficulty"].items()} == pytest.approx(
        {"easy": 2 / 3, "medium": 1 / 2, "hard": 1 / 3}
    )
    assert list(acc["by_difficulty"]) == ["easy", "medium", "hard"]
    assert {k: (v["value"], v["n"]) for k, v in acc["by_continent"].items()} == {
        "Asia": (pytest.approx(3 / 5), 5),
        "Europe": (0.0, 1),
        "North America": (0.0, 1),
        "South America": (1.0, 1),
    }
    assert report["country_accuracy"]["overall"]["value"] == pytest.approx(6 / 8)
    assert report["country_accuracy"]["by_datasource"]["Global-Test"]["value"] == pytest.approx(4 / 5)
    assert report["format"]["overall"]["value"] == pytest.approx(6 / 8)
    assert report["format"]["by_datasource"]["China-Test"]["value"] == pytest.approx(2 / 3)
    for table in ("accuracy", "country_accuracy", "format"):
        _brackets(report[table]["overall"])
        for group in ("by_datasource", "by_difficulty", "by_continent"):
            for est in report[table][group].values():
                _brackets(est)
    # Wilson at the edges: 1 of 1 and 0 of 1 keep a wide interval (a bootstrap would give [1, 1]).
    z2 = 1.959963984540054**2
    assert acc["by_continent"]["South America"]["ci"] == pytest.approx([1 / (1 + z2), 1.0])
    assert acc["by_continent"]["Europe"]["ci"] == pytest.approx([0.0, z2 / (1 + z2)])
    assert report["intervals"]["rates"].startswith("Wilson")
    assert report["distance"] is None and report["coordinates"] is None and "pass_at_k" not in report
    assert report["finish_reasons"] == {"stop": 8}

    out = tmp_path / "run"
    preds = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    by_label = {p["label"]: p for p in preds}
    hunan = by_label["$china,henan$"]
    assert hunan["gold_ids"] == {"country": "CN", "region": "CN-HA"}
    assert hunan["answer_ids"] == {"country": "CN", "region": "CN-HN"} and hunan["reason"] == "wrong region"
    assert by_label["$united states,california$"]["parsed"]["hedge"] is True
    assert by_label["$china,yunnan$"]["answer"] is None
    for p in preds:
        assert {"id", "sample", "datasource", "difficulty", "label", "response", "latency_s"} <= set(p)
    md = (out / "report.md").read_text()
    assert "| stand-in | 60.00 [" in md and "| Model | Global-Test | China-Test | Overall |" in md
    assert (out / "accuracy_by_difficulty.png").stat().st_size > 1000
    assert (out / "accuracy_by_continent.png").read_bytes()[:4] == b"\x89PNG"

    # The prompt went out as trained: system text, then the image part, then the question.
    sent = stand_in.bodies[0]["messages"]
    assert sent[0] == {"role": "system", "content": rows[0]["prompt"][0]["content"]}
    assert [p["type"] for p in sent[1]["content"]] == ["image_url", "text"]
    assert sent[1]["content"][1]["text"].startswith("In which country")
    assert stand_in.bodies[0]["temperature"] == 0.0


def test_resume_generates_only_what_is_missing(tmp_path, write_rows, stand_in):
    g, c, rows = _setup(write_rows, stand_in)
    yunnan = image_key(rows[7]["images"][0])
    stand_in.script[yunnan] = [("status", 503)]  # fails on every try
    out = tmp_path / "run"
    first = run_eval(_config(out, [g, c], stand_in))
    assert first["missing"] == 1 and first["failed_this_run"] == 1
    assert stand_in.calls[yunnan] == 3  # 1 + 2 retries
    assert json.loads((out / "failures.jsonl").read_text())["error"].startswith("InternalServerError")
    assert first["accuracy"]["by_datasource"]["China-Test"]["n"] == 2  # over what was answered
    assert "samples are missing" in (out / "report.md").read_text()

    before = dict(stand_in.calls)
    stand_in.script[yunnan] = [CHINA[2][2]]
    second = run_eval(_config(out, [g, c], stand_in))
    changed = {k for k in stand_in.calls if stand_in.calls[k] != before.get(k)}
    assert changed == {yunnan} and stand_in.calls[yunnan] == 4  # only the missing sample
    assert second["missing"] == 0 and second["n_predictions"] == 8
    assert second["accuracy"]["overall"]["value"] == pytest.approx(4 / 8)

    # An interrupted write leaves half a line: it is dropped, and nothing else is redone.
    with open(out / "predictions.jsonl", "a") as f:
        f.write('{"id": "half a li')
    third = run_eval(_config(out, [g, c], stand_in))
    assert sum(stand_in.calls.values()) == sum(before.values()) + 1
    assert third["accuracy"] == second["accuracy"]
    assert (out / "predictions.jsonl").read_text().endswith("}\n")

    with pytest.raises(EvalError, match="temperature"):
        run_eval(_config(out, [g, c], stand_in, params=GenParams(temperature=0.7)))

    # --rescore: stored responses are scored again, nothing is generated.
    lines = (out / "predictions.jsonl").read_text().splitlines()
    tampered = [{**json.loads(x), "accuracy": 0.0, "stale_field": 1} for x in lines]
    (out / "predictions.jsonl").write_text("".join(json.dumps(p) + "\n" for p in tampered))
    calls = sum(stand_in.calls.values())
    assert run_eval(_config(out, [g, c], stand_in))["accuracy"]["overall"]["value"] == 0.0
    rescored = run_eval(_config(out, [g, c], stand_in, rescore=True))
    assert rescored["accuracy"] == second["accuracy"] and sum(stand_in.calls.values()) == calls
    assert "stale_field" in (out / "predictions.jsonl").read_text()  # other fields are kept


def test_samples_k_report_mean_accuracy_and_pass_at_k(tmp_path, write_rows, stand_in):
    path = write_rows("Global-Test", [{"label": "$japan,osaka$", "id": i} for i in "abc"])
    rows = _rows(path)
    right, wrong = f"{T}<answer>Japan, Osaka</answer>", f"{T}<answer>Japan, Kyoto</answer>"
    # c = 3, 0, 1 correct of 3 samples: whichever sample gets which reply, the counts are fixed.
    for row, script in zip(rows, [[right], [wrong], [right, wrong, wrong]], strict=True):
        stand_in.script[image_key(row["images"][0])] = script
    report = run_eval(_config(tmp_path / "k", [path], stand_in, samples=3, params=GenParams(temperature=1.0)))
    assert report["n_predictions"] == 9 and report["samples_per_prompt"] == 3
    assert report["accuracy"]["overall"]["value"] == pytest.approx((1 + 0 + 1 / 3) / 3)
    assert report["accuracy"]["overall"]["n"] == 3  # prompts, not generations
    assert report["pass_at_k"]["1"]["value"] == pytest.approx(4 / 9)
    assert report["pass_at_k"]["3"]["value"] == pytest.approx(2 / 3)
    _brackets(report["pass_at_k"]["3"])
    assert {b["temperature"] for b in stand_in.bodies} == {1.0}


def test_distance_and_reverse_geocoded_accuracy(tmp_path, write_rows, stand_in):
    pytest.importorskip("reverse_geocode", reason="needs reverse_geocode (extra 'eval')")
    labels = [
        {"country": "China", "region": "Sichuan", "lat": 30.66, "lon": 104.06},
        {"country": "France", "region": "Île-de-France", "lat": 48.8566, "lon": 2.3522},
        {"country": "United States", "region": "New York", "lat": 40.7128, "lon": -74.006},
    ]
    replies = [
        f"{T}<answer>30.57, 104.07</answer>",  # ~10 km, in Sichuan
        f"{T}<answer>51.5074, -0.1278</answer>",  # London: ~344 km, wrong country
        f"{T}<answer>United States, New York</answer>",  # no coordinates
    ]
    path = write_rows("Im2GPS", [{"label": lab} for lab in labels])
    for row, reply in zip(_rows(path), replies, strict=True):
        stand_in.script[image_key(row["images"][0])] = [reply]
    report = run_eval(_config(tmp_path / "d", [path], stand_in))

    d1 = haversine_km(30.66, 104.06, 30.57, 104.07)
    d2 = haversine_km(48.8566, 2.3522, 51.5074, -0.1278)
    assert d1 == pytest.approx(10.05, abs=0.01) and d2 == pytest.approx(343.9, abs=0.5)
    dist = report["distance"]
    assert dist["n"] == 3 and dist["answered_with_coordinates"] == pytest.approx(2 / 3)
    within = {k: v["value"] for k, v in dist["within_km"].items()}
    assert within == pytest.approx({"1": 0, "25": 1 / 3, "200": 1 / 3, "750": 2 / 3, "2500": 2 / 3})
    assert dist["median_km"]["value"] == pytest.approx(d2)  # of 10, 344 and the no-answer maximum
    expected_score = (geoguessr_score(d1) + geoguessr_score(d2) + geoguessr_score(MAX_DISTANCE_KM)) / 3
    assert dist["mean_geoguessr"]["value"] == pytest.approx(expected_score)
    assert expected_score == pytest.approx((4966.4 + 3972.8 + 0.0) / 3, abs=1)
    # Over the two answers that gave coordinates only: no antipode in the median.
    answered = dist["answered"]
    assert answered["n"] == 2 and answered["median_km"]["value"] == pytest.approx((d1 + d2) / 2)
    assert answered["within_km"]["25"]["value"] == pytest.approx(1 / 2)
    assert answered["mean_geoguessr"]["value"] == pytest.approx(
        (geoguessr_score(d1) + geoguessr_score(d2)) / 2
    )
    (gold_paris,) = [loc for loc in report["locations"] if loc["gold"] == [48.8566, 2.3522]]
    assert gold_paris["predicted"] == [51.5074, -0.1278] and gold_paris["ok"] is False
    assert len(report["locations"]) == 3
    coords = report["coordinates"]
    assert coords["answers_with_coordinates"] == 2 and coords["region_resolved"] == 2
    assert coords["country_accuracy"]["value"] == pytest.approx(1 / 3)
    assert coords["region_accuracy"]["value"] == pytest.approx(1 / 3)
    # The text answer scores as usual; coordinate-only answers name no region.
    assert report["accuracy"]["overall"]["value"] == pytest.approx(1 / 3)
    preds = [json.loads(x) for x in (tmp_path / "d" / "predictions.jsonl").read_text().splitlines()]
    sichuan = next(p for p in preds if p["label"]["country"] == "China")
    assert sichuan["coord_ids"] == {"country": "CN", "region": "CN-SC"} and sichuan["coord_region_ok"] is True
    assert math.isclose(sichuan["distance_km"], d1)
    md = (tmp_path / "d" / "report.md").read_text()
    assert "## Distance" in md and "≤2,500 km" in md and "reverse-geocoded" in md
    assert "distance figures with a 95% percentile bootstrap interval" in md  # the header promises it
    assert "| all prompts (missing = antipode) | 3 |" in md and "| answers with coordinates | 2 |" in md


def test_cli_eval_then_table(tmp_path, write_rows, stand_in, capsys):
    g, c, _ = _setup(write_rows, stand_in)
    out = tmp_path / "cli"
    argv = ["eval", "--data", f"{g},{c}", "--engine", "openai", "--model", "stand-in", "--name", "Stand-In 1"]
    argv += ["--base-url", stand_in.url, "--output", str(out), "--no-progress", "--resamples", "200"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "| Stand-In 1 | 60.00 [" in printed and "| 50.00 [" in printed
    report = json.loads((out / "report.json").read_text())
    assert report["bootstrap"]["resamples"] == 200 and report["settings"]["name"] == "Stand-In 1"
    calls = sum(stand_in.calls.values())
    assert main(argv) == 0  # a rerun of a finished run asks for nothing
    assert sum(stand_in.calls.values()) == calls
    assert main(["eval", "--table", str(out), str(out)]) == 0
    table = capsys.readouterr().out
    # The same run twice: two rows with distinct labels (the folder, then a number).
    assert f"| Stand-In 1 ({out}) #1 |" in table and f"| Stand-In 1 ({out}) #2 |" in table


def test_cli_errors_say_what_to_fix(tmp_path, write_rows, capsys):
    assert main(["eval", "--engine", "openai"]) == 2
    assert "needs --data, --model" in capsys.readouterr().err
    bad = write_rows("bad", [{"label": "$$"}])
    argv = ["eval", "--data", str(bad), "--engine", "openai", "--model", "m", "--output", str(tmp_path / "o")]
    assert main(argv) == 2
    assert "labels cannot be read" in capsys.readouterr().err
    missing = ["eval", "--data", str(tmp_path / "nope.jsonl"), "--engine", "openai", "--model", "m"]
    assert main(missing) == 2
    assert "does not exist" in capsys.readouterr().err
    gone = write_rows("gone", [{"label": "$china,sichuan$"}])
    for row in _rows(gone):
        Path(row["images"][0]).unlink()
    argv = [
        "eval",
        "--data",
        str(gone),
        "--engine",
        "openai",
        "--model",
        "m",
        "--output",
        str(tmp_path / "g"),
    ]
    assert main(argv) == 2
    assert "1 image files are missing" in capsys.readouterr().err
    two = write_rows("two", [{"label": "$china,sichuan$", "images": ["/a.jpg", "/b.jpg"], "id": "x"}])
    argv = ["eval", "--data", str(two), "--engine", "openai", "--model", "m", "--output", str(tmp_path / "t")]
    assert main(argv) == 2
    assert "two/x: prompt has 1 <image> tags but the row has 2 images" in capsys.readouterr().err


def _closed_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/v1"


def test_an_endpoint_nobody_listens_on_stops_at_once(tmp_path, write_rows, capsys):
    data = write_rows("d", [{"label": "$china,sichuan$"}] * 3)
    url = _closed_url()
    argv = ["eval", "--data", str(data), "--engine", "openai", "--model", "m", "--base-url", url,
            "--output", str(tmp_path / "o"), "--no-progress"]  # fmt: skip
    start = time.monotonic()
    assert main(argv) == 2  # a configuration error, not "rerun to retry"
    assert time.monotonic() - start < 20  # generous for a loaded box; retrying every request took 25 s
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"seekworld eval: cannot connect to {url}/ (")
    assert err[0].endswith("or pass its URL with --base-url")
    assert not (tmp_path / "o" / "predictions.jsonl").exists()


def test_without_base_url_the_default_endpoint_is_named(tmp_path, write_rows, capsys, monkeypatch):
    url = _closed_url()
    monkeypatch.setenv("OPENAI_BASE_URL", url)  # the openai client's default, made unreachable
    data = write_rows("d", [{"label": "$china,sichuan$"}])
    argv = ["eval", "--data", str(data), "--engine", "openai", "--model", "m", "--output", str(tmp_path)]
    assert main(argv) == 2
    note, error = capsys.readouterr().err.splitlines()
    assert note.startswith(f"note: no --base-url: requests go to {url}/, the openai client's default")
    assert error.startswith(f"seekworld eval: cannot connect to {url}/ (no --base-url given")


def test_a_refused_key_stops_at_once(write_rows, stand_in):
    from seekworld.eval.engines import EngineUnavailable, create_engine

    stand_in.models_status = 401
    with pytest.raises(EngineUnavailable, match=r"refused the API key \(HTTP 401\): .*--api-key-env"):
        create_engine(EngineOptions(engine="openai", model="m", base_url=stand_in.url))
    stand_in.models_status = 200
    create_engine(EngineOptions(engine="openai", model="m", base_url=stand_in.url)).close()
    assert not stand_in.bodies  # the check sends no chat request


def test_openai_stream(write_rows, stand_in):
    from seekworld.eval.engines import create_engine

    rows = _rows(write_rows("s", [{"label": "$china,sichuan$"}]))
    stand_in.script[image_key(rows[0]["images"][0])] = [GLOBAL[0][2]]
    engine = create_engine(EngineOptions(engine="openai", model="m", base_url=stand_in.url))
    pieces = list(engine.stream(rows[0], GenParams()))
    assert len(pieces) > 1 and "".join(pieces) == GLOBAL[0][2]
