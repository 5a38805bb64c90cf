"""`seekworld demo`: the answer panel (no browser needed), and the Gradio page in headless Chromium
against the tiny offline Qwen2.5-VL: upload a photo, wait for the answer, take a screenshot.

The browser test needs `gradio` (extra `demo`), `selenium`, and Debian's `chromium` and
`chromium-driver`; it is skipped, saying which is missing, when they are not installed.
"""

import importlib.util
import os
import shutil
import socket
import time
from pathlib import Path

import pytest
from PIL import Image

from seekworld.demo.app import DONE_MARK, answer_markdown, locate
from seekworld.eval.engines import GenParams
from seekworld.eval.inference import interpret


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
    assert [s[0] for s in steps[:-1]] == [text[: 5 * (i + 1)] for i in range(len(steps) - 1)]
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
        ("<answer>30.66, 104.06</answer>", "Coordinates 30.6600, 104.0600"),
    ],
)
def test_answer_panel(response, expected):
    assert expected in answer_markdown(interpret(response))


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


@pytest.mark.slow
@pytest.mark.skipif(_missing_for_browser() is not None, reason=f"browser test needs {_missing_for_browser()}")
def test_demo_in_headless_chromium(tmp_path, tiny_qwen, monkeypatch):
    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    from seekworld.demo.app import build_app
    from seekworld.eval.engines import EngineOptions, create_engine

    engine = create_engine(EngineOptions(engine="transformers", model=str(tiny_qwen.path), device="cpu"))
    app = build_app(engine, GenParams(max_new_tokens=16))
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
        upload = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#photo input[type=file]")))
        upload.send_keys(str(photo))  # the upload event starts the model
        wait.until(ec.text_to_be_present_in_element((By.ID, "answer"), DONE_MARK))
        answer = driver.find_element(By.ID, "answer").text
        reasoning = driver.find_element(By.CSS_SELECTOR, "#reasoning textarea").get_attribute("value")
        # SEEKWORLD_DEMO_SCREENSHOT=path keeps the screenshot (e.g. as a CI artifact).
        shot = Path(os.environ.get("SEEKWORLD_DEMO_SCREENSHOT") or tmp_path / "demo.png")
        driver.save_screenshot(str(shot))
        elapsed = time.perf_counter() - start
    finally:
        driver.quit()
        app.close()
    # The random model writes no <answer>: the panel says so, after streaming its text.
    assert "no <answer>" in answer
    assert reasoning.strip()
    assert shot.read_bytes()[:4] == b"\x89PNG" and shot.stat().st_size > 10_000
    assert elapsed < 60
