"""Reward functions: pure scorers over (response, gold label), one module per component.

- `accuracy`: country and first-level region both right (the verifier).
- `format`: `<think>` then `<answer>`, once each.
- `length`: pays the reasoning's new letters (with a right answer); SeekWorld's exact rule beside it.
- `distance`: GeoGuessr score of answer coordinates.
- `judge`: an LLM's verdict on the reasoning (calls an endpoint).
- `variants`: the components' registry and the named variants that weigh them (`rule`, ...).
- `scoring`: the one scoring path (`score_samples`, `score_response`) and the weighted sum.
"""
