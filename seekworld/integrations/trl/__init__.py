"""Everything TRL (`GRPOTrainer`, `SFTTrainer`, 1.16): the one-machine backend of `seekworld train`
and cold-start SFT.

- `run.py`: `seekworld train --backend trl`: preflight, then train;
- `backend.py`: the config mapped onto `GRPOConfig`, the model loaded, the run;
- `preflight.py`: what the run needs before it starts (reward probe, zoom tool, GRPOConfig...);
- `rewards.py`: the TRL reward function of a variant (its total, by our scoring core, in-process);
- `data.py`: `seekworld prepare` rows -> the dataset TRL's VLM path reads (prompt messages + image);
- `callbacks.py`: `metrics.jsonl`, one row per logged step, written as training goes;
- `zoom.py`: the zoom tool (`zoom.enabled`): environment, tool template and parser, its reward;
- `sft.py`: `seekworld sft` on `SFTTrainer`, and the zoom tool's call form of a trace;
- `hub.py`: pushing checkpoints to the Hugging Face Hub.

TRL, transformers and torch are imported where used, except by `callbacks.py`.
"""
