"""Evaluation and inference: `seekworld eval`, `seekworld predict` and the demo.

- `rows`: read prepared JSONL rows and turn one into chat messages (the training prompt).
- `engines`: generation backends (`vllm`, `transformers`, `openai`), registered by name.
- `scoring`: score a response with the reward's own code, plus distances and reverse geocoding.
- `metrics`: bootstrap intervals, pass@k, McNemar, distance thresholds (pure functions).
- `runner`: the resumable loop; `report`: tables and plots; `compare`: paired comparison.

Nothing here is imported by `seekworld/__init__`; heavy libraries load inside the engines.
"""
