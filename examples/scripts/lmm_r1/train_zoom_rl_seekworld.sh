#!/usr/bin/env bash
# SeekWorld zoom-tool RL ("visual clue tracking") on upstream OpenRLHF 0.11.2: the multi-turn zoom
# agent (seekworld/integrations/openrlhf/zoom_agent.py), usually from the cold-start SFT model.
#
#   bash examples/scripts/lmm_r1/train_zoom_rl_seekworld.sh [seekworld train options, e.g. --set k=v]
#   DRY_RUN=1 bash examples/scripts/lmm_r1/train_zoom_rl_seekworld.sh   # checks only, CPU is fine
#
# Before it (see README, Clue tracking):
#   bash examples/scripts/lmm_r1/train_sft_clue_tracking.sh           # -> the SFT model (MODEL)
#   seekworld traces prompt-template --output zoom_prompt.json
#   seekworld prepare --input ... --output data/seekworld-zoom --label-format json \
#       --prompt-template zoom_prompt.json                              # -> DATA
#
# Environment: everything train_direct_rl_seekworld.sh reads (MODEL, DATA, SAVE_PATH, NNODES,
# GPUS_PER_NODE, REWARD, JUDGE_*, WANDB, RAY_ADDRESS, DRY_RUN, PYTHON, ...), and:
#   CONFIG            default: the `zoom` preset (seekworld/train/configs/zoom.toml)
#   MAX_CROPS         crops per episode (4); also sets data.max_images_per_prompt = 1 + MAX_CROPS
#   TOOL_BONUS        reward paid once for a correct answer that used >= 1 crop (0)
#   MAX_TURNS, CROP_MAX_PIXELS, CROP_MIN_SIDE, MIN_BOX_PX, ANSWER_RESERVE_TOKENS
#                     the other zoom settings (seekworld.zoom.protocol.ZoomConfig)
# They become SEEKWORLD_ZOOM_* variables, exported before Ray starts so the rollout workers (where
# upstream runs the agent) see them. Use the same MAX_CROPS as for the SFT data: the observation
# texts name it.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHON="${PYTHON:-python3}"
export PYTHON

zoom_var() { # zoom_var VARIABLE NAME: export SEEKWORLD_ZOOM_NAME when VARIABLE is set
    if [[ -n "${!1:-}" ]]; then
        export "SEEKWORLD_ZOOM_$2=${!1}"
    fi
}
MAX_CROPS="${MAX_CROPS:-${SEEKWORLD_ZOOM_MAX_CROPS:-4}}"
zoom_var MAX_CROPS MAX_CROPS
zoom_var TOOL_BONUS TOOL_BONUS
zoom_var MAX_TURNS MAX_TURNS
zoom_var CROP_MAX_PIXELS CROP_MAX_PIXELS
zoom_var CROP_MIN_SIDE CROP_MIN_SIDE
zoom_var MIN_BOX_PX MIN_BOX_PX
zoom_var ANSWER_RESERVE_TOKENS ANSWER_RESERVE_TOKENS

# The installed preset and agent file (absolute paths: Ray workers may start elsewhere).
read -r PRESET AGENT < <("$PYTHON" - <<'EOF'
import importlib.util
import os

root = importlib.util.find_spec("seekworld").submodule_search_locations[0]
print(os.path.join(root, "train", "configs", "zoom.toml"), os.path.join(root, "integrations", "openrlhf", "zoom_agent.py"))
EOF
)
export CONFIG="${CONFIG:-$PRESET}"

# `seekworld train`'s preflight loads the agent file as upstream does and plays one canned episode
# (one crop, then the answer) with these settings; with a local model folder, through its processor.
exec bash "$HERE/train_direct_rl_seekworld.sh" \
    --set "upstream.extra_args=--train.agent_func_path,$AGENT" \
    --set "data.max_images_per_prompt=$((1 + MAX_CROPS))" \
    "$@"
