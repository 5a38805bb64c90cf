#!/usr/bin/env bash
# SeekWorld direct RL (Qwen2.5-VL-7B, REINFORCE with baseline) on upstream OpenRLHF 0.11.2.
#
#   bash examples/scripts/lmm_r1/train_direct_rl_seekworld.sh [seekworld train options, e.g. --set k=v]
#   DRY_RUN=1 bash examples/scripts/lmm_r1/train_direct_rl_seekworld.sh   # checks only, CPU is fine
#
# Environment (each one unset keeps the config's value; `seekworld train --print-default-config`):
#   CONFIG          config file (TOML/YAML) applied before the variables below
#   MODEL           model.path               (Qwen/Qwen2.5-VL-7B-Instruct)
#   DATA            data.prompt_data         (data/seekworld/train.jsonl, from `seekworld prepare`)
#   SAVE_PATH       checkpoint.save_path     (checkpoints/seekworld-direct-rl)
#   NNODES          cluster.nodes            (1; more nodes need RAY_ADDRESS, see README, Multi-node)
#   GPUS_PER_NODE   cluster.gpus_per_node    (8)
#   REWARD          reward.variant           (rule | rule+length | rule+judge | distance | rule+distance)
#   REWARD_MODE     reward.mode              (server: start `seekworld serve`; url: REWARD_URL; file)
#   REWARD_URL      reward.url
#   REWARD_HOST     reward.host              (127.0.0.1; 0.0.0.0 by default when NNODES > 1)
#   JUDGE_MODE      judge.mode               (none | start: `vllm serve` on JUDGE_GPUS | url: JUDGE_URL)
#   JUDGE_MODEL, JUDGE_GPUS, JUDGE_URL
#   WANDB=1         log to Weights & Biases (needs WANDB_API_KEY); RUN_NAME names the run
#   TENSORBOARD=1   TensorBoard logs in <save_path>/tensorboard
#   LOG_ROOT        logs go to LOG_ROOT/<timestamp>/ (default <save_path>/logs)
#   RAY_ADDRESS     join this Ray cluster; unset: start a Ray head here and stop exactly it at exit
#   RAY_PORT        port of the head started here (default: a free one)
#   DRY_RUN=1       no Ray; start the reward server, run `seekworld train --dry-run`, stop it
#   SAMPLE=N        decode N sampled images in the preflight instead of all
#   PYTHON          interpreter with seekworld installed (default: python3)
#
# Everything this script starts is stopped at exit by PID: `seekworld train` (which stops the
# reward server and judge it started, and leaves <log dir>/*.pid for any it could not), then those
# PID files' process groups, then the Ray head if this script started it. Nothing is killed by name.
# shellcheck disable=SC2317 # the functions below run from the EXIT trap; shellcheck 0.9 calls them unreachable
set -euo pipefail

PYTHON="${PYTHON:-python3}"
SW=("$PYTHON" -m seekworld train)
DRY_RUN="${DRY_RUN:-0}"

# ---- configuration: config file, then the variables that are set, then this script's arguments
CONF=()
if [[ -n "${CONFIG:-}" ]]; then
    CONF+=(--config "$CONFIG")
fi
add_set() { # add_set VARIABLE config.key: pass the variable on when it is set
    if [[ -n "${!1:-}" ]]; then
        CONF+=(--set "$2=${!1}")
    fi
}
add_set MODEL model.path
add_set DATA data.prompt_data
add_set SAVE_PATH checkpoint.save_path
add_set NNODES cluster.nodes
add_set GPUS_PER_NODE cluster.gpus_per_node
add_set REWARD reward.variant
add_set REWARD_MODE reward.mode
add_set REWARD_URL reward.url
add_set JUDGE_MODE judge.mode
add_set JUDGE_MODEL judge.model
add_set JUDGE_GPUS judge.gpus
add_set JUDGE_URL judge.url
add_set RUN_NAME logging.wandb_run_name
if [[ "${WANDB:-0}" == 1 ]]; then
    CONF+=(--set logging.wandb=true)
fi
if [[ -z "${REWARD_HOST:-}" && "${NNODES:-1}" -gt 1 ]]; then
    REWARD_HOST=0.0.0.0 # rollout workers on other nodes must reach it (seekworld train adds a token)
fi
add_set REWARD_HOST reward.host
CONF+=("$@")

# Resolve what this script needs (and validate the config before anything starts).
RESOLVED="$("${SW[@]}" "${CONF[@]}" --get checkpoint.save_path --get cluster.gpus_per_node --get cluster.nodes)"
mapfile -t VALUES <<<"$RESOLVED"
SAVE_DIR="${VALUES[0]}"
GPUS="${VALUES[1]}"
NODES="${VALUES[2]}"
if [[ "${TENSORBOARD:-0}" == 1 ]]; then
    CONF+=(--set "logging.tensorboard_dir=$SAVE_DIR/tensorboard")
fi

LOG_DIR="${LOG_ROOT:-$SAVE_DIR/logs}/$(date +%Y%m%d_%H%M%S)"
mkdir -p "$LOG_DIR"
echo "logs: $LOG_DIR (tail -f $LOG_DIR/train.log)"

# ---- cleanup: exactly what was started here, by PID
TRAIN_PID=""
RAY_HEAD_PID=""
RAY_TMP=""

wait_gone() { # wait_gone SECONDS PID...: true once none of the PIDs is alive
    local deadline=$((SECONDS + $1)) pid alive
    shift
    while ((SECONDS < deadline)); do
        alive=0
        for pid in "$@"; do
            if kill -0 "$pid" 2>/dev/null; then alive=1; fi
        done
        ((alive)) || return 0
        sleep 0.5
    done
    return 1
}

stop_group() { # stop_group PGID: TERM the process group, KILL it after 15 s
    local pgid=$1 deadline
    kill -TERM -- "-$pgid" 2>/dev/null || return 0
    deadline=$((SECONDS + 15))
    while kill -0 -- "-$pgid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.5; done
    kill -KILL -- "-$pgid" 2>/dev/null || true
}

cleanup() {
    local status=$? pidfile pid
    trap - EXIT INT TERM HUP
    if [[ -n "$TRAIN_PID" ]] && kill -0 "$TRAIN_PID" 2>/dev/null; then
        echo "stopping seekworld train (pid $TRAIN_PID)"
        kill -TERM "$TRAIN_PID" 2>/dev/null || true
        wait_gone 120 "$TRAIN_PID" || kill -KILL "$TRAIN_PID" 2>/dev/null || true
    fi
    # `seekworld train` removes a service's PID file once it has stopped it: any left are ours to stop.
    for pidfile in "$LOG_DIR"/*.pid; do
        [[ -e "$pidfile" ]] || continue
        pid="$(<"$pidfile")"
        if [[ "$pid" =~ ^[0-9]+$ ]]; then
            echo "stopping $(basename "$pidfile" .pid) (process group $pid)"
            stop_group "$pid"
        fi
        rm -f "$pidfile"
    done
    if [[ -n "$RAY_HEAD_PID" ]]; then
        # `ray start --block` stops the processes of its own node on SIGTERM, and nothing else.
        echo "stopping the Ray head started here (pid $RAY_HEAD_PID)"
        kill -TERM "$RAY_HEAD_PID" 2>/dev/null || true
        if ! wait_gone 60 "$RAY_HEAD_PID"; then
            stop_group "$RAY_HEAD_PID" # its own session (setsid): only its processes
        fi
        rm -f "$LOG_DIR/ray_head.pid.txt"
    fi
    if [[ -n "$RAY_TMP" ]]; then
        echo "Ray session files: $RAY_TMP"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

free_port() {
    "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The in-process reward file (reward.mode=file) runs in Ray workers, which inherit the environment
# of `ray start`: export its settings before Ray starts.
eval "$("${SW[@]}" "${CONF[@]}" --print-env)"

# ---- Ray
if [[ "$DRY_RUN" == 1 ]]; then
    if [[ -n "${RAY_ADDRESS:-}" ]]; then
        echo "DRY_RUN: would join the Ray cluster at $RAY_ADDRESS"
    else
        echo "DRY_RUN: would start a Ray head: ray start --head --block --node-ip-address 127.0.0.1" \
            "--port <free> --num-gpus $GPUS --temp-dir <tmp> --include-dashboard=false (and stop it at exit)"
    fi
elif [[ -n "${RAY_ADDRESS:-}" ]]; then
    echo "joining the Ray cluster at $RAY_ADDRESS (started and stopped by you)"
else
    if ((NODES > 1)); then
        echo "cluster.nodes=$NODES: start Ray on every node first and set RAY_ADDRESS (README, Multi-node)" >&2
        exit 2
    fi
    command -v ray >/dev/null || {
        echo "ray not found: scripts/install_gpu.sh installs the train extra" >&2
        exit 2
    }
    RAY_PORT="${RAY_PORT:-$(free_port)}"
    # A private temp dir and port: this head never touches another Ray on the machine.
    RAY_TMP="$(mktemp -d /tmp/seekworld-ray.XXXXXX)"
    SETSID=()
    if command -v setsid >/dev/null; then SETSID=(setsid); fi
    "${SETSID[@]}" ray start --head --block --node-ip-address 127.0.0.1 --port "$RAY_PORT" \
        --num-gpus "$GPUS" --temp-dir "$RAY_TMP" --include-dashboard=false --disable-usage-stats \
        >"$LOG_DIR/ray_head.log" 2>&1 &
    RAY_HEAD_PID=$!
    echo "$RAY_HEAD_PID" >"$LOG_DIR/ray_head.pid.txt"
    echo "started a Ray head: pid $RAY_HEAD_PID, 127.0.0.1:$RAY_PORT (log $LOG_DIR/ray_head.log)"
    export RAY_ADDRESS="127.0.0.1:$RAY_PORT"
    deadline=$((SECONDS + 180))
    until ray status --address "$RAY_ADDRESS" >/dev/null 2>&1; do
        if ! kill -0 "$RAY_HEAD_PID" 2>/dev/null || ((SECONDS > deadline)); then
            echo "the Ray head did not come up; see $LOG_DIR/ray_head.log" >&2
            exit 1
        fi
        sleep 2
    done
fi

# ---- seekworld train: starts the reward server (and judge), checks everything, runs OpenRLHF
ARGS=("${CONF[@]}" --log-dir "$LOG_DIR")
if [[ "$DRY_RUN" == 1 ]]; then
    ARGS+=(--dry-run)
fi
if [[ -n "${SAMPLE:-}" ]]; then
    ARGS+=(--sample "$SAMPLE")
fi
"${SW[@]}" "${ARGS[@]}" > >(tee -a "$LOG_DIR/train.log") 2>&1 &
TRAIN_PID=$!
echo "$TRAIN_PID" >"$LOG_DIR/seekworld_train.pid.txt"
STATUS=0
wait "$TRAIN_PID" || STATUS=$?
TRAIN_PID=""
exit "$STATUS"
