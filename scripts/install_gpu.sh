#!/usr/bin/env bash
# GPU install of seekworld's `train` extra (upstream OpenRLHF 0.11.2, vLLM, DeepSpeed, flash-attn, Ray),
# into the active virtual environment, in the one order that works:
#
#   1. torch + torchvision at vLLM 0.29.0's pins (PyPI's CUDA 13.0 build);
#   2. flash-attn, built against that torch with --no-build-isolation (its build imports torch,
#      which pip's isolated build environment lacks), or a prebuilt wheel you name;
#   3. seekworld[train], which then finds torch and flash-attn already satisfied.
#
# Usage (from anywhere; the repository is this script's parent folder):
#   scripts/install_gpu.sh            install what is missing (idempotent: present pins are kept)
#   scripts/install_gpu.sh --check    only report what is installed against the pins; exit 1 if short
#   scripts/install_gpu.sh --resolve  resolve the train extra against PyPI without installing or
#                                     building anything (what CI runs; Python >= 3.11); exit 1
#                                     if the pins disagree
#
# Environment:
#   PYTHON            interpreter of the target venv (default: python)
#   FLASH_ATTN_WHEEL  path or URL of a flash-attn 2.8.3 wheel built for torch 2.13 / CUDA 13 /
#                     your Python: installed instead of compiling
#   MAX_JOBS          parallel compile jobs for flash-attn (default 4; each can take ~8 GB of RAM)
#   EDITABLE=0        install seekworld[train] as a regular package instead of editable
#   ALLOW_NO_GPU=1    install on a machine without a usable NVIDIA driver (e.g. to build an image)
#
# Needs: NVIDIA driver >= 580 (CUDA 13.0; torch's wheels bring their own CUDA runtime libraries),
# a GPU of compute capability >= 7.5 (CUDA 13 builds drop Maxwell, Pascal and Volta), and, to
# compile flash-attn, nvcc 13.x (CUDA toolkit), g++ and a lot of time (tens of minutes).
set -euo pipefail

TORCH_VERSION=2.13.0        # vllm 0.29.0 pins torch==2.13.0
TORCHVISION_VERSION=0.28.0  # vllm 0.29.0 pins torchvision==0.28.0
FLASH_ATTN_VERSION=2.8.3    # openrlhf 0.11.2 pins flash-attn==2.8.3
MIN_DRIVER_MAJOR=580        # CUDA 13.x minimum driver (NVIDIA's minor-version compatibility table)
CUDA_MAJOR=13               # torch 2.13.0 on PyPI depends on cuda-toolkit==13.0.3

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python}"
MODE="install"
case "${1:-}" in
    "") ;;
    --check) MODE="check" ;;
    --resolve) MODE="resolve" ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/!p}' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "install_gpu.sh: unknown argument '$1' (--check, --resolve or none)" >&2; exit 2 ;;
esac

say() { printf '%s\n' "$*" >&2; }

# Installed version of a distribution in the target interpreter, or "" when absent.
dist_version() {
    "$PY" - "$1" <<'EOF' 2>/dev/null || true
import importlib.metadata as m, sys
try:
    print(m.version(sys.argv[1]))
except m.PackageNotFoundError:
    pass
EOF
}

# Version without a local label: 2.13.0+cu130 -> 2.13.0.
public() { printf '%s' "${1%%+*}"; }

driver_version() {
    command -v nvidia-smi >/dev/null 2>&1 || return 0
    nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null | head -n1 | tr -d ' '
}

nvcc_major() {
    command -v nvcc >/dev/null 2>&1 || return 0
    nvcc --version | sed -n 's/.*release \([0-9]*\)\..*/\1/p' | head -n1
}

# ---------------------------------------------------------------------------------------------
if [[ "$MODE" == "resolve" ]]; then
    # Resolve `.[train]` as a GPU node would see PyPI, in a throwaway venv, downloading metadata
    # only (PEP 658): no CUDA wheel is fetched and nothing is built. flash-attn is the one package
    # whose metadata needs a build (that imports torch), so a metadata-only stand-in of exactly the
    # pinned version is placed in the venv first: the resolver takes the pin as satisfied.
    # `--isolated` ignores local pip configuration: a local wheel folder may hold a CPU build of
    # torch whose dependencies (triton, CUDA libraries) differ from the CUDA build users get.
    TMP="$(mktemp -d)"
    trap 'rm -rf "$TMP"' EXIT
    "${PYTHON:-python3}" -m venv "$TMP/venv"
    VPY="$TMP/venv/bin/python"
    # A recent pip reads PyPI's separate metadata files (PEP 658) instead of downloading wheels.
    PIP_FIND_LINKS= "$VPY" -m pip --isolated install --quiet --upgrade pip
    SITE="$("$VPY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    STUB="$SITE/flash_attn-$FLASH_ATTN_VERSION.dist-info"
    mkdir -p "$STUB"
    printf 'Metadata-Version: 2.1\nName: flash-attn\nVersion: %s\n' "$FLASH_ATTN_VERSION" >"$STUB/METADATA"
    printf 'seekworld-resolve-check\n' >"$STUB/INSTALLER"
    : >"$STUB/RECORD"
    REPORT="${RESOLVE_REPORT:-$TMP/report.json}"
    say "resolving $ROOT[train] against PyPI (metadata only) ..."
    PIP_FIND_LINKS= "$VPY" -m pip --isolated install --quiet --dry-run \
        --report "$REPORT" "$ROOT[train]"
    "$VPY" - "$REPORT" "$ROOT/pyproject.toml" "$TORCH_VERSION" "$TORCHVISION_VERSION" <<'EOF'
import json, re, sys, tomllib
report, pyproject, torch_pin, torchvision_pin = sys.argv[1:5]
resolved = {
    i["metadata"]["name"].lower().replace("_", "-"): i["metadata"]["version"]
    for i in json.load(open(report))["install"]
}
expected = {"torch": torch_pin, "torchvision": torchvision_pin}
for req in tomllib.load(open(pyproject, "rb"))["project"]["optional-dependencies"]["train"]:
    m = re.fullmatch(r"([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==([^;\s]+)", req.strip())
    if m and m.group(1).lower() != "flash-attn":
        expected[m.group(1).lower().replace("_", "-")] = m.group(2)
bad = 0
print(f"{'package':<16} {'pinned':<10} resolved")
for name, want in expected.items():
    got = resolved.get(name, "(absent)")
    ok = got.split("+")[0] == want
    bad += not ok
    print(f"{name:<16} {want:<10} {got}{'' if ok else '   <-- MISMATCH'}")
for name in ("triton", "cuda-toolkit", "nvidia-cudnn-cu13", "flashinfer-python"):
    print(f"{name:<16} {'-':<10} {resolved.get(name, '(absent)')}")
print(f"{len(resolved)} distributions resolved; flash-attn taken as satisfied at its pin")
sys.exit(1 if bad else 0)
EOF
    exit $?
fi

# ---------------------------------------------------------------------------------------------
if [[ "$MODE" == "check" ]]; then
    short=0
    row() { printf '%-14s %-12s %s\n' "$1" "$2" "$3"; }
    row "what" "needed" "found"
    pyver="$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || echo none)"
    row python ">=3.10" "$pyver"
    drv="$(driver_version)"
    row nvidia-driver ">=$MIN_DRIVER_MAJOR" "${drv:-none (no nvidia-smi)}"
    if [[ -z "$drv" || "${drv%%.*}" -lt "$MIN_DRIVER_MAJOR" ]]; then short=1; fi
    nv="$(nvcc_major)"
    if [[ -n "$nv" ]]; then row nvcc "$CUDA_MAJOR.x" "$nv.x"; else
        row nvcc "$CUDA_MAJOR.x" "none (only needed to compile flash-attn)"; fi
    for pair in "torch=$TORCH_VERSION" "torchvision=$TORCHVISION_VERSION" "flash-attn=$FLASH_ATTN_VERSION" \
        "vllm=0.29.0" "deepspeed=0.19.6" "ray=2.55.0" "transformers=5.15.0" "openrlhf=0.11.2" "seekworld="; do
        name="${pair%%=*}"; want="${pair#*=}"
        got="$(dist_version "$name")"
        row "$name" "${want:-any}" "${got:-missing}"
        if [[ -z "$got" || ( -n "$want" && "$(public "$got")" != "$want" ) ]]; then short=1; fi
    done
    cuda="$("$PY" -c 'import torch; print(torch.cuda.is_available())' 2>/dev/null || echo "no torch")"
    row cuda-usable True "$cuda"
    [[ "$cuda" == True ]] || short=1
    if [[ "$short" == 0 ]]; then say "install_gpu.sh --check: everything at its pin"; else
        say "install_gpu.sh --check: something is missing or off its pin (run scripts/install_gpu.sh)"; fi
    exit "$short"
fi

# ---------------------------------------------------------------------------------------------
# Install.
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
    || { say "install_gpu.sh: Python >= 3.10 needed ($("$PY" --version 2>&1))"; exit 2; }
if [[ -z "${VIRTUAL_ENV:-}" && -z "${CONDA_PREFIX:-}" ]]; then
    say "install_gpu.sh: no active virtual environment; create one first: python3 -m venv .venv && . .venv/bin/activate"
    exit 2
fi
drv="$(driver_version)"
if [[ -z "$drv" || "${drv%%.*}" -lt "$MIN_DRIVER_MAJOR" ]]; then
    msg="NVIDIA driver ${drv:-not found}; torch $TORCH_VERSION (CUDA 13.0) needs >= $MIN_DRIVER_MAJOR"
    if [[ "${ALLOW_NO_GPU:-0}" != 1 ]]; then say "install_gpu.sh: $msg (ALLOW_NO_GPU=1 installs anyway)"; exit 2; fi
    say "install_gpu.sh: warning: $msg; installing anyway (ALLOW_NO_GPU=1)"
fi

# 1. torch at vLLM's pin.
if [[ "$(public "$(dist_version torch)")" == "$TORCH_VERSION" \
    && "$(public "$(dist_version torchvision)")" == "$TORCHVISION_VERSION" ]]; then
    say "[1/3] torch $TORCH_VERSION and torchvision $TORCHVISION_VERSION already installed"
else
    say "[1/3] torch $TORCH_VERSION + torchvision $TORCHVISION_VERSION (CUDA 13.0 build, ~4 GB)"
    "$PY" -m pip install "torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION"
fi

# 2. flash-attn against that torch.
if [[ "$(dist_version flash-attn)" == "$FLASH_ATTN_VERSION" ]] && "$PY" -c 'import flash_attn' 2>/dev/null; then
    say "[2/3] flash-attn $FLASH_ATTN_VERSION already installed"
elif [[ -n "${FLASH_ATTN_WHEEL:-}" ]]; then
    say "[2/3] flash-attn from $FLASH_ATTN_WHEEL"
    "$PY" -m pip install --no-deps "$FLASH_ATTN_WHEEL"
else
    nv="$(nvcc_major)"
    if [[ "$nv" != "$CUDA_MAJOR" ]]; then
        say "install_gpu.sh: compiling flash-attn needs nvcc $CUDA_MAJOR.x to match torch's CUDA (found: ${nv:-no nvcc});"
        say "  install the CUDA $CUDA_MAJOR toolkit (and set CUDA_HOME), or set FLASH_ATTN_WHEEL to a prebuilt wheel"
        exit 2
    fi
    say "[2/3] compiling flash-attn $FLASH_ATTN_VERSION against torch $TORCH_VERSION (MAX_JOBS=${MAX_JOBS:-4}; tens of minutes)"
    "$PY" -m pip install packaging ninja psutil wheel setuptools
    MAX_JOBS="${MAX_JOBS:-4}" "$PY" -m pip install --no-build-isolation "flash-attn==$FLASH_ATTN_VERSION"
fi

# 3. the train extra; torch and flash-attn are already satisfied, so nothing is rebuilt.
say "[3/3] seekworld[train]"
if [[ "${EDITABLE:-1}" == 1 ]]; then
    "$PY" -m pip install -e "$ROOT[train]"
else
    "$PY" -m pip install "$ROOT[train]"
fi
if [[ "$(public "$(dist_version torch)")" != "$TORCH_VERSION" ]]; then
    say "install_gpu.sh: torch changed to $(dist_version torch) while installing the train extra; the pins disagree"
    exit 1
fi
"$PY" -c 'import torch, flash_attn, vllm, deepspeed, ray, openrlhf; print("imports ok; CUDA available:", torch.cuda.is_available())'
say "done; scripts/install_gpu.sh --check reports the versions"
