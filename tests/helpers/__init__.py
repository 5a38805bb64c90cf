"""Shared test helpers: `tiny_qwen` (offline Qwen2.5-VL processor/model), `prepare_data` (prepare inputs)."""
