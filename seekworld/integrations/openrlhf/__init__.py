"""Upstream OpenRLHF (0.11.2) extension points, loaded by path by upstream:

- `reward_func.py`: the in-process reward file (`--reward.remote_url <path>`);
- `zoom_agent.py`: the multi-turn zoom-tool agent (`--train.agent_func_path <path>`).

Nothing here is imported eagerly.
"""
