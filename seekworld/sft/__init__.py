"""Cold-start SFT on clue-tracking traces (TRL's SFTTrainer; the `sft` extra).

- `config`: the shipped `configs/default.toml`, a user file and `--set` overrides.
- `data`: prepared trace rows -> token ids/labels/pixels, exactly as the zoom agent's RL transcript;
  `ZoomSFTCollator` (loss on the model's turns only).
- `train`: `run_sft(config)`.

Nothing here imports torch, transformers or TRL at import time.
"""
