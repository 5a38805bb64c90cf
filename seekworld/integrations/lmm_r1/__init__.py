"""lmm-r1 (the OpenRLHF 0.6 fork SeekWorld trained with) extension point, loaded by path by lmm-r1:

- `reward_func.py`: the in-process reward file (`--remote_rm_url <path>`).

Nothing here is imported eagerly.
"""
