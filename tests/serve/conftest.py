from __future__ import annotations

import pytest
from helpers.serve_process import ServeProcesses


@pytest.fixture
def server(tmp_path):
    """`server(*flags) -> port` of a real `seekworld serve`; `server.procs` are its masters."""
    started = ServeProcesses(tmp_path)
    yield started
    started.stop()
