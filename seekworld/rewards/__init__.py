"""Reward functions: pure scorers over (response, gold label), one module per component.

- `accuracy`: country and first-level region both right (the verifier).
- `format`: `<think>` then `<answer>`, once each.
- `length`: SeekWorld's length incentive.
- `distance`: GeoGuessr score of answer coordinates.
- `judge`: an LLM's verdict on the reasoning (calls an endpoint; used by the server and reward file).
- `variants`: named compositions (`rule`, `rule+length`, ...) and `score_response`.
- `batch`, `response`: upstream OpenRLHF's request shape -> scores.
"""
