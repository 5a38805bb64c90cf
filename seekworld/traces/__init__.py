"""Clue-tracking traces: the trace format (`schema`), turning traces into multi-turn SFT rows
(`prepare`, behind `seekworld prepare --input-format traces` / `seekworld traces prepare`), and
growing the set by rejection sampling from a strong VLM (`collect`, `seekworld traces collect`).
"""
