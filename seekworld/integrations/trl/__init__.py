"""TRL (`GRPOTrainer`, 1.16) glue for the one-machine backend of `seekworld train`:

- `rewards.py`: one TRL reward function per reward component, calling our scoring core in-process;
- `data.py`: `seekworld prepare` rows -> the dataset TRL's VLM path reads (prompt messages + image);
- `callbacks.py`: `metrics.jsonl`, one row per logged step, written as training goes;
- `zoom.py`: the zoom tool (`zoom.enabled`): environment, tool template and parser, zoom rewards.

The mapping of the config onto `GRPOConfig` and the run itself are in `seekworld.train.trl_backend`.
Nothing here imports TRL at module level except `callbacks.py`.
"""
