"""Fixtures for the eval tests: prepared-style rows with distinct images, and a running
`helpers.openai_standin` endpoint."""

from __future__ import annotations

import json
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from helpers.openai_standin import StandIn, handler

SYSTEM = "You are an expert in photo geolocation."
QUESTION = "<image>In which country and first-level administrative region was this photo taken?"


def _image(path: Path, seed: int) -> Path:
    from PIL import Image

    # A flat colour per seed: distinct bytes, so the stand-in can tell images apart.
    Image.new("RGB", (56, 56), ((seed * 53) % 256, (seed * 97) % 256, (seed * 31) % 256)).save(path)
    return path


@pytest.fixture
def write_rows(tmp_path):
    """write_rows(name, specs) -> Path of a JSONL file. Each spec: dict with `label` and optional id,
    difficulty, datasource; an image is made per row (seeded by its position across all calls)."""
    counter = {"n": 0}

    def write(name: str, specs: list[dict]) -> Path:
        img_dir = tmp_path / "images"
        img_dir.mkdir(exist_ok=True)
        path = tmp_path / f"{name}.jsonl"
        with open(path, "w", encoding="utf-8") as f:
            for spec in specs:
                counter["n"] += 1
                image = _image(img_dir / f"{counter['n']}.png", counter["n"])
                row = {
                    "prompt": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": QUESTION}],
                    "images": [str(image)],
                    "datasource": name,
                    **spec,
                }
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        return path

    return write


@pytest.fixture
def stand_in():
    server_state = StandIn()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler(server_state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server_state.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    yield server_state
    server.shutdown()
    server.server_close()
