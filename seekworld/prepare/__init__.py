"""`seekworld prepare`: turn SeekWorld-style data into upstream OpenRLHF prompt data.

    from seekworld.prepare import PrepareConfig, prepare
    report = prepare(PrepareConfig(inputs=[("train", "seekworld_data/sample/lmm_r1.jsonl")], output="out"))

Modules: `formats` (input readers), `images` (check/resize/store one image, content-addressed; the
worker's only import; decoding and size maths live in `seekworld.io.images`), `prompts`, `balance`,
`output` (settings, errors, labels, manifest and row writers shared with `seekworld.traces.prepare`),
`report`, `pipeline` (collect → balance → write). Attributes load lazily so a worker process that
needs only `images` does not import the rest.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PrepareConfig", "PrepareError", "prepare"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from seekworld.prepare import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
