"""Visual clue tracking: the zoom tool protocol shared by the RL agent, SFT data and trace collection.

- `protocol`: tag syntax, box parsing, observation texts, the episode state machine and the
  transcript renderer. Pure (no PIL, no torch).
- `crop`: crop the original image to a box, upscale small crops, apply the pixel budget (PIL).
- `reward`: multi-turn format + accuracy (+ judge) + tool bonus, on the single-turn reward core.

The OpenRLHF adapter is `seekworld/integrations/openrlhf/zoom_agent.py`; nothing here imports it.
"""
