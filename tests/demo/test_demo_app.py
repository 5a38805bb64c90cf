"""`seekworld demo`: the answer panel (no browser needed), and the Gradio page in headless Chromium
against the tiny offline Qwen2.5-VL: upload a photo, wait for the answer, take a screenshot.

The browser test needs `gradio` (extra `demo`), `selenium`, and Debian's `chromium` and
`chromium-driver`; it is skipped, saying which is missing, when they are not installed.
"""

import importlib.util
import os
import shutil
import socket
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from helpers.openai_standin import StandIn, handler
from PIL import Image

from seekworld.demo.app import DONE_MARK, FAILED_MARK, answer_markdown, locate, streaming_reasoning
from seekworld.eval.engines import GenParams
from seekworld.eval.inference import format_result, interpret


class CannedStreamEngine:
    """TEST DOUBLE: streams a fixed response in pieces, as an engine's `stream` would."""

    def __init__(self, text):
        self.text = text
        self.rows = []

    def stream(self, row, params):
        self.rows.append(row)
        for i in range(0, len(self.text), 5):
            yield self.text[i : i + 5]


def test_locate_streams_then_names_the_region_in_english_and_chinese():
    text = "<think>Hotpot restaurants and red soil.</think><answer>$China,Sichuan$</answer>"
    engine = CannedStreamEngine(text)
    steps = list(locate(engine, GenParams(), Image.new("RGB", (64, 48))))
    assert len(steps) > 3 and steps[0][1] == "_Thinking…_"
    shown = [s[0] for s in steps[:-1]]
    assert not any("<" in s or ">" in s for s in shown)  # no markup while streaming, not even "<thi"
    assert shown[1] == "Hot" and "Hotpot restaurants and red soil." in shown  # text as it arrives
    assert all("Hotpot restaurants and red soil.".startswith(s) for s in shown)
    reasoning, panel = steps[-1]
    assert reasoning == "Hotpot restaurants and red soil."
    assert panel.startswith(f"### {DONE_MARK}")
    assert "**Sichuan · 四川省**, China · 中国" in panel and "`CN-SC`" in panel
    (row,) = engine.rows
    assert row["prompt"][1]["content"].startswith("<image>")  # the training prompt
    assert list(locate(engine, GenParams(), None)) == [("", "Upload a photo.")]


@pytest.mark.parametrize(
    "response,expected",
    [
        ("<answer>Hong Kong, Hong Kong</answer>", "**Hong Kong · 中国香港特别行政区**"),  # a whole territory
        ("<answer>Japan</answer>", "**Japan · 日本** (no region)"),
        ("<answer>China, Henan or Hunan</answer>", "_hedged answer"),
        ("no answer at all", "_no &lt;answer&gt;...&lt;/answer&gt; block_"),  # shown as typed
        # Coordinates only: named as `seekworld predict` names them.
        (
            "<answer>30.66, 104.06</answer>",
            "Coordinates 30.6600, 104.0600 — in **Sichuan · 四川省**, China · 中国 `CN-SC`",
        ),
    ],
)
def test_answer_panel(response, expected):
    assert expected in answer_markdown(interpret(response))


def test_coordinates_named_like_predict():
    result = interpret("<answer>30.66, 104.06</answer>")
    assert "CN-SC — Sichuan (四川省), China (中国)" in format_result(result)  # predict's line
    assert "Sichuan · 四川省" in answer_markdown(result)


@pytest.mark.parametrize(
    "text,shown",
    [
        ("<think>Red soil", "Red soil"),
        ("<thi", ""),  # the tag is being written: nothing yet
        ("<think>Red soil</thi", "Red soil"),
        ("<think>Red soil</think>\n<ans", "Red soil\n"),
        ("<think>Red soil</think><answer>$China,Yunnan$", "Red soil"),
        ("plain text, 3 < 4", "plain text, 3 < 4"),
    ],
)
def test_streaming_reasoning_strips_tags_as_they_arrive(text, shown):
    assert streaming_reasoning(text) == shown


class DownEngine:
    """TEST DOUBLE: an endpoint that cannot be reached, after two pieces or at once."""

    def __init__(self, pieces=()):
        self.pieces = pieces
        self.calls = 0

    def stream(self, row, params):
        self.calls += 1
        yield from self.pieces
        raise ConnectionError("Connection refused: http://127.0.0.1:9/v1")


def test_endpoint_down_shows_the_reason_and_logs_one_line(caplog):
    engine = DownEngine(["<think>Palm", " trees"])
    with caplog.at_level("ERROR", logger="seekworld.demo"):
        steps = list(locate(engine, GenParams(), Image.new("RGB", (64, 48))))
    reasoning, panel = steps[-1]
    assert reasoning == "Palm trees"  # what arrived stays
    assert panel.startswith(f"### {FAILED_MARK}") and "ConnectionError: Connection refused" in panel
    (record,) = caplog.records
    assert "Connection refused" in record.getMessage() and record.exc_info is None  # no traceback
    assert engine.calls == 1


def _missing_for_browser() -> str | None:
    for module, what in (("gradio", "gradio (extra 'demo')"), ("selenium", "selenium (pip)")):
        if importlib.util.find_spec(module) is None:
            return what
    for binary, package in (("chromium", "Debian chromium"), ("chromedriver", "Debian chromium-driver")):
        if shutil.which(binary) is None:
            return package
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Counting:
    """Counts `stream` calls of a real engine (each one is a request to the model)."""

    def __init__(self, engine):
        self.engine = engine
        self.calls = 0

    def stream(self, row, params):
        self.calls += 1
        yield from self.engine.stream(row, params)


def _browse(tmp_path, engine, params):
    """Launch the app, open it in headless Chromium, upload a photo, click Locate, wait for the
    answer panel to finish (or fail). Returns (answer text, reasoning text, screenshot, seconds)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from seekworld.demo.app import build_app

    app = build_app(engine, params)
    port = _free_port()
    app.queue().launch(
        server_name="127.0.0.1",
        server_port=port,
        prevent_thread_lock=True,
        share=False,
        ssr_mode=False,
        quiet=True,
    )
    photo = tmp_path / "photo.jpg"
    Image.new("RGB", (320, 240), (90, 140, 200)).save(photo)

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1000",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        start = time.perf_counter()
        driver.get(f"http://127.0.0.1:{port}/")
        wait = WebDriverWait(driver, 60)
        upload = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#photo input[type=file]"))
        upload.send_keys(str(photo))
        # The photo is in the page (its preview shows) before Locate is clicked.
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#photo img"))
        time.sleep(1.0)  # an upload trigger, if there were one, would have fired by now
        driver.find_element(By.ID, "locate").click()
        wait.until(lambda d: any(m in d.find_element(By.ID, "answer").text for m in (DONE_MARK, FAILED_MARK)))
        answer = driver.find_element(By.ID, "answer").text
        reasoning = driver.find_element(By.CSS_SELECTOR, "#reasoning textarea").get_attribute("value")
        # SEEKWORLD_DEMO_SCREENSHOT=path keeps the screenshot (e.g. as a CI artifact).
        shot = Path(os.environ.get("SEEKWORLD_DEMO_SCREENSHOT") or tmp_path / "demo.png")
        driver.save_screenshot(str(shot))
        elapsed = time.perf_counter() - start
    finally:
        driver.quit()
        app.close()
    return answer, reasoning, shot, elapsed


@pytest.mark.slow
@pytest.mark.skipif(_missing_for_browser() is not None, reason=f"browser test needs {_missing_for_browser()}")
def test_demo_in_headless_chromium(tmp_path, tiny_qwen, monkeypatch):
    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
    from seekworld.eval.engines import EngineOptions, create_engine

    engine = Counting(
        create_engine(EngineOptions(engine="transformers", model=str(tiny_qwen.path), device="cpu"))
    )
    answer, reasoning, shot, elapsed = _browse(tmp_path, engine, GenParams(max_new_tokens=16))
    assert engine.calls == 1  # upload, then Locate: one request
    # The random model writes no <answer>: the panel says so, after streaming its text.
    assert "no <answer>" in answer
    assert reasoning.strip()
    assert shot.read_bytes()[:4] == b"\x89PNG" and shot.stat().st_size > 10_000
    assert elapsed < 60


@pytest.mark.slow
@pytest.mark.skipif(_missing_for_browser() is not None, reason=f"browser test needs {_missing_for_browser()}")
def test_demo_with_the_endpoint_down_says_why_in_the_page(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
    pytest.importorskip("openai")
    from seekworld.eval.engines import EngineOptions, create_engine

    # The endpoint answers when the demo starts (the engine checks it then) and is gone by the
    # time the user presses Locate: connection refused, shown in the page.
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler(StandIn()))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        engine = create_engine(EngineOptions(engine="openai", model="m", base_url=base_url, retries=0))
    finally:
        server.shutdown()
        server.server_close()
    with caplog.at_level("WARNING"):
        answer, _, shot, _ = _browse(tmp_path, engine, GenParams(max_new_tokens=16))
    assert shot.stat().st_size > 10_000
    assert FAILED_MARK in answer and "APIConnectionError: Connection error." in answer
    assert "Error" not in answer.replace("APIConnectionError", "")  # the reason, not a bare badge
    ours = [r for r in caplog.records if r.name == "seekworld.demo"]
    assert len(ours) == 1 and "Connection error" in ours[0].getMessage()
    assert not [r for r in caplog.records if r.exc_info]  # no traceback anywhere in the log
