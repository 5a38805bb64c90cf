"""Shared plumbing: images, JSONL and atomic files, progress bars, the OpenAI-compatible client,
the confined image reader.

A leaf package: it imports the standard library and third-party packages only, never the rest of
seekworld, so every layer (geo, rewards, prepare, eval, zoom, serve, cli) can use it.
"""
