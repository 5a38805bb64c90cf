"""`seekworld train`: SeekWorld's direct-RL run on upstream OpenRLHF, built from a config and checked.

- `config`: the shipped default TOML + a user file + `--set` overrides, validated.
- `command`: config -> the exact `python -m openrlhf.cli.train_ppo_ray ...` argv (one flag table).
- `upstream_flags`: the flags the installed OpenRLHF accepts, read from its source without importing it.
- `launch`: reward server(s) and judge, started and stopped by PID / process group.
- `preflight`: data, reward, flags, GPUs and packages, checked before anything heavy starts.

Nothing here imports OpenRLHF, torch or vLLM at import time.
"""
