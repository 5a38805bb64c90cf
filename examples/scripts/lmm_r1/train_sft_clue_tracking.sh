#!/usr/bin/env bash
# Cold-start SFT on clue-tracking traces (TRL SFTTrainer), before zoom-tool RL.
#
#   TRACES=traces.jsonl bash examples/scripts/lmm_r1/train_sft_clue_tracking.sh [seekworld sft options]
#   DRY_RUN=1 TRACES=seekworld_data/sample/traces.jsonl bash examples/scripts/lmm_r1/train_sft_clue_tracking.sh
#
# Environment:
#   TRACES      traces JSONL ({image, label, steps: [{text, zoom}], answer}); prepared into DATA_DIR.
#               Unset: DATA_DIR/sft.jsonl must already exist (`seekworld traces prepare`).
#   DATA_DIR    prepared SFT rows and their images (data/seekworld-traces)
#   MODEL       model.path of the sft config (Qwen/Qwen2.5-VL-7B-Instruct)
#   OUTPUT      train.output_dir (checkpoints/seekworld-sft-clue-tracking): the MODEL for zoom RL
#   CONFIG      sft config file applied before the variables (see `seekworld sft --print-default-config`)
#   GPUS        processes for `accelerate launch` (default: the GPUs nvidia-smi lists, else 1)
#   DEEPSPEED   a DeepSpeed JSON config (ZeRO-2/3) for train.deepspeed; unset: DDP
#   MAX_CROPS   zoom limit the observation texts name (4); use the same for RL
#   MAX_PIXELS  pixel budget of the photo (as `seekworld prepare --max-pixels`)
#   DRY_RUN=1   prepare and check the data, train nothing (CPU is fine)
#   PYTHON      interpreter with seekworld[sft] installed (python3)
set -euo pipefail

PYTHON="${PYTHON:-python3}"
DATA_DIR="${DATA_DIR:-data/seekworld-traces}"
export SEEKWORLD_ZOOM_MAX_CROPS="${MAX_CROPS:-${SEEKWORLD_ZOOM_MAX_CROPS:-4}}"

if [[ -n "${TRACES:-}" ]]; then
    PREP=(--input "$TRACES" --output "$DATA_DIR" --split sft)
    if [[ -n "${MAX_PIXELS:-}" ]]; then
        PREP+=(--max-pixels "$MAX_PIXELS")
    fi
    "$PYTHON" -m seekworld traces prepare "${PREP[@]}"
fi

ARGS=()
if [[ -n "${CONFIG:-}" ]]; then
    ARGS+=(--config "$CONFIG")
fi
ARGS+=(--set "data.train=$DATA_DIR/sft.jsonl")
if [[ -n "${MODEL:-}" ]]; then
    ARGS+=(--set "model.path=$MODEL")
fi
if [[ -n "${OUTPUT:-}" ]]; then
    ARGS+=(--set "train.output_dir=$OUTPUT")
fi
if [[ -n "${DEEPSPEED:-}" ]]; then
    ARGS+=(--set "train.deepspeed=$DEEPSPEED")
fi
ARGS+=("$@")

if [[ "${DRY_RUN:-0}" == 1 ]]; then
    exec "$PYTHON" -m seekworld sft --dry-run "${ARGS[@]}"
fi

if [[ -z "${GPUS:-}" ]]; then
    GPUS="$(nvidia-smi -L 2>/dev/null | grep -c '^GPU' || true)"
    if [[ -z "$GPUS" || "$GPUS" == 0 ]]; then GPUS=1; fi
fi
command -v accelerate >/dev/null || {
    echo "accelerate not found: pip install 'seekworld[sft]'" >&2
    exit 2
}
exec accelerate launch --num_processes "$GPUS" -m seekworld sft "${ARGS[@]}"
