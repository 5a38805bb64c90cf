"""The Flask app through its test client: the protocol, every 4xx, health, metrics, audit log."""

from __future__ import annotations

import json

import pytest
from helpers.serve_app import make_app, make_client, one_right_answer

from seekworld.service.settings import RewardSettings

PROMPT = "<|im_start|>user\nWhere?<|im_end|>\n<|im_start|>assistant\n"
RIGHT = PROMPT + "<think>Red soil.</think><answer>$China,Sichuan$</answer><|im_end|>"
LABEL = "$china,sichuan$"
GOOD = {"query": [RIGHT], "prompts": [PROMPT], "labels": [LABEL]}


def body(**keys) -> bytes:
    return json.dumps(keys).encode()


@pytest.fixture
def client():
    return make_client()


def test_get_reward(client):
    r = client.post("/get_reward", json=GOOD)
    assert r.status_code == 200
    assert r.get_json() == {
        "rewards": [1.5],
        "scores": [1.0],
        "extra_logs": {
            "format": [1.0],
            "accuracy": [1.0],
            "answer_too_long": [0.0],
            "label_error": [0.0],
            **one_right_answer(9),  # "Red soil.": 9 characters; `rule` pays no length
        },
    }


def test_any_batch_size_and_any_content_type(client):
    body = {"query": [RIGHT] * 300, "prompts": [PROMPT] * 300, "labels": [LABEL] * 300}
    r = client.post("/get_reward", data=json.dumps(body), content_type="text/plain")
    assert r.status_code == 200 and len(r.get_json()["rewards"]) == 300


def test_unparseable_label_is_reward_zero_not_an_error(client):
    r = client.post(
        "/get_reward", json={"query": [RIGHT, RIGHT], "prompts": [PROMPT] * 2, "labels": ["$$", None]}
    )
    assert r.status_code == 200
    assert r.get_json()["rewards"] == [0.0, 0.0]
    assert r.get_json()["extra_logs"]["label_error"] == [1.0, 1.0]
    assert "seekworld_label_errors_total 2.0" in client.get("/metrics").get_data(as_text=True)


@pytest.mark.parametrize(
    "data,message",
    [
        (b"{not json", "invalid JSON"),
        (b"\xff\xfe\x00", "invalid JSON"),
        (b"", "invalid JSON"),
        (b"[1, 2]", "body must be a JSON object"),
        (body(query=[RIGHT], labels=[LABEL]), "missing key(s): prompts"),
        (body(query=[RIGHT, RIGHT], prompts=[PROMPT], labels=[LABEL]), "different lengths"),
        (body(query=RIGHT, prompts=[PROMPT], labels=[LABEL]), "'query' must be a list"),
        (body(query=[{"a": 1}], prompts=[PROMPT], labels=[LABEL]), "'query[0]' must be a string"),
    ],
)  # fmt: skip
def test_bad_input_is_400_naming_the_problem(client, data, message):
    r = client.post("/get_reward", data=data, content_type="application/json")
    assert r.status_code == 400
    assert message in r.get_json()["error"]


def test_body_over_the_limit_is_413():
    client = make_client(max_body_mb=1000 / 2**20)  # 1,000 bytes
    r = client.post("/get_reward", data=b"x" * 2000, content_type="application/json")
    assert r.status_code == 413 and "1000 bytes" in r.get_json()["error"]
    assert 'seekworld_request_errors_total{reason="too_large"} 1.0' in client.get("/metrics").get_data(
        as_text=True
    )


@pytest.mark.parametrize(
    "url,headers,status",
    [
        ("/get_reward", {}, 401),
        ("/get_reward?token=wrong", {}, 401),
        ("/get_reward", {"Authorization": "Bearer wrong"}, 401),
        ("/get_reward?token=s3cret", {}, 200),  # upstream's client sends no headers: token in the URL
        ("/get_reward", {"Authorization": "Bearer s3cret"}, 200),
    ],
)
def test_token(url, headers, status):
    client = make_client(token="s3cret")
    r = client.post(url, json=GOOD, headers=headers)
    assert r.status_code == status
    if status == 401:
        assert r.get_json() == {"error": "missing or wrong token"}
    assert client.get("/health").status_code == 200  # health stays open for probes


def test_unknown_route_and_method_are_json(client):
    assert client.get("/nope").status_code == 404 and "error" in client.get("/nope").get_json()
    r = client.get("/get_reward")
    assert r.status_code == 405 and "error" in r.get_json()


def test_health(client):
    r = client.get("/health")
    body = r.get_json()
    assert r.status_code == 200
    assert body["status"] == "ok" and body["variant"] == "rule" and body["version"]


def test_health_shows_no_secret(judge_standin):
    client = make_client(
        reward="rule+judge",
        judge_url=judge_standin.url,
        judge_model="sound",
        judge_api_key="sk-sekrit",
        token="tok-sekrit",
    )
    text = client.get("/health").get_data(as_text=True)
    assert "sekrit" not in text and "sound" in text


def test_metrics(client):
    client.post("/get_reward", json=GOOD)
    client.post("/get_reward", data=b"{")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'seekworld_requests_total{status="200"} 1.0' in text
    assert 'seekworld_requests_total{status="400"} 1.0' in text
    assert 'seekworld_request_errors_total{reason="invalid_json"} 1.0' in text
    assert "seekworld_request_latency_seconds_bucket" in text
    assert 'seekworld_reward_component_sum{component="accuracy"} 1.0' in text
    assert 'seekworld_reward_component_count{component="format"} 1.0' in text


def test_judge_variant_with_metrics(judge_standin):
    client = make_client(
        reward="rule+judge", judge_url=judge_standin.url, judge_model="fail", judge_retries=0
    )
    reasoned = PROMPT + "<think>The clue is red soil.</think><answer>$China,Sichuan$</answer>"
    r = client.post("/get_reward", json={"query": [reasoned], "prompts": [PROMPT], "labels": [LABEL]})
    assert r.status_code == 200
    out = r.get_json()
    assert out["rewards"] == [2.5] and out["extra_logs"]["judge_error"] == [1.0]
    text = client.get("/metrics").get_data(as_text=True)
    assert 'seekworld_judge_failures_total{kind="http_500"} 1.0' in text
    assert "seekworld_judge_calls_total 1.0" in text
    assert "seekworld_judge_latency_seconds_count 1.0" in text


def test_audit_log_one_line_per_sample(tmp_path):
    client = make_client(log_dir=str(tmp_path))
    client.post(
        "/get_reward", json={"query": [RIGHT, RIGHT], "prompts": [PROMPT] * 2, "labels": [LABEL, "$$"]}
    )
    (path,) = tmp_path.glob("audit-*.jsonl")
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert len(lines) == 2
    assert lines[0]["label"] == LABEL and lines[0]["answer"] == "$China,Sichuan$"
    assert lines[0]["components"] == {"format": 1.0, "accuracy": 1.0} and lines[0]["total"] == 1.5
    assert lines[0]["time"].endswith("Z") and lines[0]["variant"] == "rule"
    assert lines[1]["total"] == 0.0 and "label_error" in lines[1]


def test_audit_log_rotates_by_size_and_keeps_everything(tmp_path):
    client = make_client(log_dir=str(tmp_path), log_max_mb=600 / 2**20)  # 600 bytes
    for _ in range(10):
        client.post("/get_reward", json=GOOD)
    files = sorted(tmp_path.glob("audit-*.jsonl"))
    assert len(files) > 1
    assert sum(len(f.read_text().splitlines()) for f in files) == 10


def test_audit_write_failure_still_answers(tmp_path):
    app = make_app(log_dir=str(tmp_path))
    service = app.extensions["seekworld"]["service"]

    def broken(records):
        raise OSError("disk full")

    service.audit.write = broken
    client = app.test_client()
    assert client.post("/get_reward", json=GOOD).status_code == 200
    assert "seekworld_audit_errors_total 1.0" in client.get("/metrics").get_data(as_text=True)


def test_internal_error_is_json_500(client, monkeypatch):
    service = client.application.extensions["seekworld"]["service"]
    monkeypatch.setattr(service, "_score", lambda *a, **k: 1 / 0)
    r = client.post("/get_reward", json=GOOD)
    assert r.status_code == 500 and r.get_json() == {"error": "internal error: ZeroDivisionError"}


def test_gunicorn_timeouts_nest_so_a_slow_judge_never_kills_a_worker():
    from seekworld.serve.runner import gunicorn_options

    settings = RewardSettings(
        reward="rule+judge",
        judge_url="http://127.0.0.1:9/v1",
        judge_model="m",
        host="::1",
        port=5001,
        workers=3,
    )
    config = settings.service_config()
    opts = gunicorn_options(config, settings.server_options())
    # one call < the judge's worst case with retries < request budget < worker timeout < upstream's 180 s
    assert config.judge.timeout_s < config.judge.worst_case_s < config.judge.budget_s
    assert config.judge.budget_s < opts["timeout"] < 180
    assert opts["bind"] == ["[::1]:5001"] and opts["workers"] == 3
    assert opts["worker_class"] == "seekworld.serve.worker.ThreadWorker"  # gthread, subclassed
    assert opts["accesslog"] is None and opts["preload_app"] is False


def test_sync_workers_stay_sync():
    # gunicorn would silently run gthread for `sync` with threads > 1
    from seekworld.serve.runner import gunicorn_options

    settings = RewardSettings(worker_class="sync", threads=32)
    opts = gunicorn_options(settings.service_config(), settings.server_options())
    assert (opts["worker_class"], opts["threads"]) == ("sync", 1)


def test_more_samples_than_the_cap_is_a_413_naming_it():
    client = make_client(max_samples=3)
    assert client.post("/get_reward", json={k: v * 3 for k, v in GOOD.items()}).status_code == 200
    r = client.post("/get_reward", json={k: v * 4 for k, v in GOOD.items()})
    assert r.status_code == 413
    assert r.get_json() == {"error": "4 samples in one request, over the limit of 3"}
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'seekworld_request_errors_total{reason="too_many_samples"} 1.0' in metrics


def test_a_label_in_no_known_form_pays_nothing(client):
    wrong = PROMPT + "<think>Red soil.</think><answer>$Atlantis,X$</answer><|im_end|>"
    r = client.post(
        "/get_reward",
        json={"query": [RIGHT, wrong], "prompts": [PROMPT] * 2, "labels": ["not a label X", "$atlantis,x$"]},
    )
    # free text is no label (format is not paid either); an unknown country in `$country,region$`
    # form still is one (names are compared)
    assert r.get_json()["rewards"] == [0.0, 1.5]
    assert r.get_json()["extra_logs"]["label_error"] == [1.0, 0.0]
