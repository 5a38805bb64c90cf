#!/usr/bin/env bash
# GPU install of seekworld's `train` extra (upstream OpenRLHF 0.11.2, vLLM, DeepSpeed, flash-attn, Ray),
# into the active virtual environment, in the one order that works:
#
#   1. torch + torchvision at vLLM 0.29.0's pins (PyPI's CUDA 13.0 build);
#   2. flash-attn, from a prebuilt wheel you name (FLASH_ATTN_WHEEL, checked), or compiled against
#      that torch with --no-build-isolation (its build imports torch) for this node's GPUs only;
#   3. seekworld[train], which then finds torch and flash-attn already satisfied.
#
# Everything that can stop the install is checked first, in seconds, before any download:
# Python 3.10-3.12, x86_64, the NVIDIA driver (or a container's CUDA forward compatibility), GPUs of
# compute capability 8.0+, the wheel's name and sha256, or nvcc + g++ for a compile.
#
# Usage (from anywhere; the repository is this script's parent folder):
#   scripts/install_gpu.sh            install what is missing (idempotent: present pins are kept)
#   scripts/install_gpu.sh --check    only report: each check, then each pinned package; exit 1 if short
#   scripts/install_gpu.sh --resolve  resolve the train extra, the flash-attn build tools and the pip
#                                     lines of docker/Dockerfile against PyPI without installing or
#                                     building anything (what CI runs; Python >= 3.11); exit 1
#                                     if the pins disagree
#
# Environment:
#   PYTHON                 interpreter of the target venv (default: python)
#   FLASH_ATTN_WHEEL       path or URL of a flash-attn wheel to install instead of compiling. Its file
#                          name must say flash-attn 2.8.3 exactly (a local label such as
#                          +cu130torch2.13 is fine; 2.8.3.post2 is another version, which pip would
#                          replace with a rebuild of 2.8.3), this Python (cpXY) and x86_64, and, when
#                          the label says, CUDA 13 and torch 2.13
#   FLASH_ATTN_WHEEL_SHA256  its sha256: required for a URL, checked for a file when given
#   FLASH_ATTN_CUDA_ARCHS  architectures to compile flash-attn for (80, 90, 100, 120; ';'-separated);
#                          default: those of this node's GPUs (all four without a GPU)
#   MAX_JOBS               parallel compile jobs; default: flash-attn's own rule, min(cores / 2,
#                          available GB / 9), at least 1 (a job can take ~9 GB)
#   CUDA_COMPAT_DIR        CUDA forward-compatibility libraries (default /usr/local/cuda/compat)
#   EDITABLE=0             install seekworld[train] as a regular package instead of editable
#   ALLOW_NO_GPU=1         install without a usable driver or GPU (e.g. to build an image)
#
# Needs: Linux x86_64; Python 3.10-3.12 (openrlhf 0.11.2 publishes cp310-cp312 x86_64 wheels only,
# and no source package); an NVIDIA driver >= 580 (CUDA 13.0), or an older one inside a container
# that carries CUDA 13's forward-compatibility libraries, on a data-center GPU; GPUs of compute
# capability >= 8.0 (flash-attn 2 kernels, bfloat16, and upstream's vLLM engines run in bfloat16);
# and to compile flash-attn, nvcc 13.x (CUDA toolkit), g++ and time (all four architectures take
# hours; one is a quarter of the kernels).
set -euo pipefail

TORCH_VERSION=2.13.0        # vllm 0.29.0 pins torch==2.13.0
TORCHVISION_VERSION=0.28.0  # vllm 0.29.0 pins torchvision==0.28.0
FLASH_ATTN_VERSION=2.8.3    # openrlhf 0.11.2 pins flash-attn==2.8.3
MIN_DRIVER_MAJOR=580        # CUDA 13.x minimum driver (NVIDIA's minor-version compatibility table)
CUDA_MAJOR=13               # torch 2.13.0 on PyPI depends on cuda-toolkit==13.0.3
PY_MIN=10 PY_MAX=12         # Python 3.x: the openrlhf 0.11.2 wheels on PyPI (cp310, cp311, cp312)
FLASH_ATTN_ARCHS_KNOWN="80 90 100 120"  # what flash-attn 2.8.3's setup.py compiles for
# Imported by flash-attn's setup.py when it compiles (--no-build-isolation: they must be installed).
FLASH_ATTN_BUILD_DEPS=(packaging==26.3 ninja==1.13.2 psutil==7.2.2 wheel==0.48.0 setuptools==84.2.1)

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

nvcc_major() {
    command -v nvcc >/dev/null 2>&1 || return 0
    nvcc --version | sed -n 's/.*release \([0-9]*\)\..*/\1/p' | head -n1
}

# ---------------------------------------------------------------------------------------------
# The checks that decide whether this machine can train at all. Each prints nothing when fine,
# else one line saying what is wrong and what to do.

python_version() { "$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true; }

python_problem() {
    local v; v="$(python_version)"
    if [[ -z "$v" ]]; then printf '%s' "no Python at PYTHON=$PY"; return; fi
    local major="${v%%.*}" minor="${v#*.}"
    if [[ "$major" != 3 || "$minor" -lt "$PY_MIN" || "$minor" -gt "$PY_MAX" ]]; then
        printf '%s' "Python $v: openrlhf 0.11.2 publishes wheels for Python 3.$PY_MIN-3.$PY_MAX only (and no source package); make the venv with python3.12"
    fi
}

arch_problem() {
    local m; m="$(uname -m)"
    [[ "$m" == x86_64 ]] || printf '%s' "$m: openrlhf 0.11.2 publishes x86_64 wheels only"
}

# One line per GPU: "driver, compute capability, name" (nothing without nvidia-smi or a GPU).
gpus() {
    command -v nvidia-smi >/dev/null 2>&1 || return 0
    nvidia-smi --query-gpu=driver_version,compute_cap,name --format=csv,noheader 2>/dev/null || true
}

# The newest CUDA forward-compatibility libcuda (the user-mode driver a CUDA container can carry
# for an older kernel driver: NVIDIA's cuda-compat package; NGC images have it), or "".
compat_driver() {
    local dir="${CUDA_COMPAT_DIR:-/usr/local/cuda/compat}" f v best=""
    for f in "$dir"/libcuda.so.* "$dir"/lib/libcuda.so.* "$dir"/lib.real/libcuda.so.*; do
        [[ -e "$f" ]] || continue
        v="${f##*/libcuda.so.}"
        [[ "$v" =~ ^[0-9]+\.[0-9]+ ]] || continue
        if [[ -z "$best" || "${v%%.*}" -gt "${best%%.*}" ]]; then best="$v"; fi
    done
    printf '%s' "$best"
}

DRIVER_NOTE=""
driver_problem() {
    local line drv compat names
    line="$(gpus | head -n1)"
    drv="$(printf '%s' "${line%%,*}" | tr -d ' ')"
    if [[ -z "$drv" ]]; then printf '%s' "no NVIDIA driver or GPU (nvidia-smi not found or lists no GPU)"; return; fi
    [[ "${drv%%.*}" -ge "$MIN_DRIVER_MAJOR" ]] && return 0
    compat="$(compat_driver)"
    if [[ -n "$compat" && "${compat%%.*}" -ge "$MIN_DRIVER_MAJOR" ]]; then
        names="$(gpus | cut -d, -f3-)"
        if grep -qiE 'geforce|titan' <<<"$names"; then
            printf '%s' "NVIDIA driver $drv < $MIN_DRIVER_MAJOR: CUDA forward compatibility ($compat here) works on data-center GPUs only, not on$(head -n1 <<<"$names"): update the driver"
            return
        fi
        DRIVER_NOTE="driver $drv < $MIN_DRIVER_MAJOR, CUDA $CUDA_MAJOR through forward compatibility (libcuda $compat in ${CUDA_COMPAT_DIR:-/usr/local/cuda/compat}; data-center GPUs only; torch.cuda.is_available() is checked at the end)"
        return
    fi
    printf '%s' "NVIDIA driver $drv: torch $TORCH_VERSION (CUDA 13.0) needs >= $MIN_DRIVER_MAJOR, or, in a container on a data-center GPU, CUDA $CUDA_MAJOR's forward-compatibility libraries (cuda-compat-13-0; NGC images carry them)"
}

gpu_problem() {
    local weak
    weak="$(gpus | awk -F', *' 'NF >= 3 && ($2 + 0) < 8 { cap = $2; gsub(/\./, "", cap); print $3 " (sm" cap ")"; exit }')"
    if [[ -n "$weak" ]]; then
        printf '%s' "$weak: the OpenRLHF path needs compute capability 8.0+ (flash-attn 2, bfloat16; upstream's vLLM runs in bfloat16): on this GPU use \`pip install -e \".[trl]\"\` and seekworld train --backend trl (float16, sdpa)"
    fi
}

# flash-attn architectures for this node's GPUs: 8.x -> 80 (sm80 code runs on 8.6 and 8.9),
# 9.x -> 90, 10.x -> 100, 12.x -> 120; "" without a GPU, "?" for one flash-attn 2.8.3 cannot build for.
gpu_archs() {
    gpus | awk -F', *' 'NF >= 3 { split($2, cc, "."); a = ""
        if (cc[1] < 8) next
        if (cc[1] == 8) a = "80"; else if (cc[1] == 9) a = "90"; else if (cc[1] == 10) a = "100"; else if (cc[1] == 12) a = "120"
        if (a == "") unknown = 1; else seen[a] = 1 }
        END { if (unknown) { printf "?"; exit }
              out = ""; n = split("80 90 100 120", order, " ")
              for (i = 1; i <= n; i++) if (order[i] in seen) out = out (out == "" ? "" : ";") order[i]
              printf "%s", out }'
}

flash_attn_archs() {
    if [[ -n "${FLASH_ATTN_CUDA_ARCHS:-}" ]]; then printf '%s' "$FLASH_ATTN_CUDA_ARCHS"; return; fi
    local found; found="$(gpu_archs)"
    printf '%s' "${found:-80;90;100;120}"
}

archs_problem() {
    local a archs; archs="$(flash_attn_archs)"
    if [[ "$archs" == *"?"* ]]; then
        printf '%s' "a GPU here has a compute capability flash-attn $FLASH_ATTN_VERSION has no kernels for (it builds $FLASH_ATTN_ARCHS_KNOWN)"; return
    fi
    for a in ${archs//;/ }; do
        [[ " $FLASH_ATTN_ARCHS_KNOWN " == *" $a "* ]] \
            || { printf '%s' "FLASH_ATTN_CUDA_ARCHS=$archs: '$a' is not one of $FLASH_ATTN_ARCHS_KNOWN"; return; }
    done
}

# flash-attn's own default when MAX_JOBS is unset (its setup.py): min(cores / 2, free GB / 9), >= 1.
max_jobs() {
    if [[ -n "${MAX_JOBS:-}" ]]; then printf '%s' "$MAX_JOBS"; return; fi
    local cores gb by_cores by_mem
    cores="$(nproc 2>/dev/null || echo 2)"
    gb="$(awk '/^MemAvailable:/ { printf "%d", $2 / 1048576 }' /proc/meminfo 2>/dev/null || echo 9)"
    by_cores=$(( cores / 2 > 1 ? cores / 2 : 1 ))
    by_mem=$(( gb / 9 > 1 ? gb / 9 : 1 ))
    printf '%s' $(( by_cores < by_mem ? by_cores : by_mem ))
}

# What is wrong with FLASH_ATTN_WHEEL's file name for this install, or nothing.
wheel_problem() {
    "$PY" - "$1" "$FLASH_ATTN_VERSION" "$(uname -m)" "$CUDA_MAJOR" "${TORCH_VERSION%.*}" <<'EOF'
import re, sys, urllib.parse
where, pin, machine, cuda, torch = sys.argv[1:6]
name = urllib.parse.unquote(where.split("#")[0].split("?")[0].rsplit("/", 1)[-1])
pytag = "cp%d%d" % sys.version_info[:2]
m = re.fullmatch(r"flash_attn-([^-]+)-(cp\d+)-([^-]+)-([^-]+)\.whl", name)
if not m:
    print(f"{name} is not a flash-attn wheel (flash_attn-VERSION-cpXY-cpXY-PLATFORM.whl)")
    sys.exit()
version, py, _abi, platform = m.groups()
public, _, local = version.partition("+")
cu = re.search(r"cu(\d+)", local)
built_for = re.search(r"torch(\d+\.\d+)", local)
if public != pin:
    print(f"{name} is flash-attn {public}; openrlhf 0.11.2 pins =={pin}, so pip would replace it with a build of {pin}")
elif py != pytag:
    print(f"{name} is for {py}; this Python is {pytag}")
elif machine not in platform:
    print(f"{name} is for {platform}; this machine is {machine}")
elif cu and not cu.group(1).startswith(cuda):
    print(f"{name} is built for CUDA {cu.group(1)}; torch {torch} here is the CUDA {cuda} build")
elif built_for and built_for.group(1) != torch:
    print(f"{name} is built for torch {built_for.group(1)}; this install uses torch {torch}")
EOF
}

sha256_of() { "$PY" -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$1"; }

# ---------------------------------------------------------------------------------------------
if [[ "$MODE" == "resolve" ]]; then
    # Resolve `.[train]`, the flash-attn build tools and every requirement of docker/Dockerfile's
    # pip lines together, as a GPU node would see PyPI, in a throwaway venv, downloading metadata
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
    PIP_FIND_LINKS="" "$VPY" -m pip --isolated install --quiet --upgrade pip
    SITE="$("$VPY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    STUB="$SITE/flash_attn-$FLASH_ATTN_VERSION.dist-info"
    mkdir -p "$STUB"
    printf 'Metadata-Version: 2.1\nName: flash-attn\nVersion: %s\n' "$FLASH_ATTN_VERSION" >"$STUB/METADATA"
    printf 'seekworld-resolve-check\n' >"$STUB/INSTALLER"
    : >"$STUB/RECORD"
    mapfile -t DOCKER_REQS < <("$VPY" "$ROOT/tools/dockerfile_requirements.py" "$ROOT/docker/Dockerfile")
    REPORT="${RESOLVE_REPORT:-$TMP/report.json}"
    say "resolving ${ROOT}[train] + ${FLASH_ATTN_BUILD_DEPS[*]} + docker/Dockerfile's ${DOCKER_REQS[*]:-(none)} against PyPI (metadata only) ..."
    PIP_FIND_LINKS="" "$VPY" -m pip --isolated install --quiet --dry-run --report "$REPORT" \
        "${ROOT}[train]" "torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION" \
        "${FLASH_ATTN_BUILD_DEPS[@]}" ${DOCKER_REQS[@]+"${DOCKER_REQS[@]}"}
    "$VPY" - "$REPORT" "$ROOT/pyproject.toml" "$TORCH_VERSION" "$TORCHVISION_VERSION" \
        "${FLASH_ATTN_BUILD_DEPS[@]}" ${DOCKER_REQS[@]+"${DOCKER_REQS[@]}"} <<'EOF'
import importlib.metadata, json, re, sys, tomllib
report, pyproject, torch_pin, torchvision_pin, *more = sys.argv[1:]
# What this venv already has at the asked version (pip itself) is not in the report's installs.
resolved = {d.metadata["Name"].lower().replace("_", "-"): d.version for d in importlib.metadata.distributions()}
resolved.update({
    i["metadata"]["name"].lower().replace("_", "-"): i["metadata"]["version"]
    for i in json.load(open(report))["install"]
})
expected = {"torch": torch_pin, "torchvision": torchvision_pin}
for req in tomllib.load(open(pyproject, "rb"))["project"]["optional-dependencies"]["train"] + more:
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
print(f"{len(json.load(open(report))['install'])} distributions resolved; flash-attn taken as satisfied at its pin")
sys.exit(1 if bad else 0)
EOF
    exit $?
fi

# ---------------------------------------------------------------------------------------------
if [[ "$MODE" == "check" ]]; then
    short=0
    blockers=()
    row() { printf '%-14s %-12s %s\n' "$1" "$2" "$3"; }
    row "what" "needed" "found"
    p="$(python_problem)"
    row python "3.$PY_MIN-3.$PY_MAX" "$(python_version)"
    [[ -z "$p" ]] || blockers+=("$p")
    p="$(arch_problem)"
    row platform x86_64 "$(uname -m)"
    [[ -z "$p" ]] || blockers+=("$p")
    drv="$(gpus | head -n1 | cut -d, -f1 | tr -d ' ')"
    p="$(driver_problem)"
    driver_problem >/dev/null  # sets DRIVER_NOTE here (the line above ran in a subshell)
    row nvidia-driver ">=$MIN_DRIVER_MAJOR" "${drv:-none (no nvidia-smi)}${DRIVER_NOTE:+ (forward compatibility: libcuda $(compat_driver))}"
    [[ -z "$p" ]] || blockers+=("$p")
    caps="$(gpus | awk -F', *' 'NF >= 3 { printf "%s%s", sep, $2; sep = "," }')"
    p="$(gpu_problem)"
    row gpu "sm80+" "${caps:-none}"
    [[ -z "$p" ]] || blockers+=("$p")
    nv="$(nvcc_major)"
    if [[ -n "$nv" ]]; then row nvcc "$CUDA_MAJOR.x" "$nv.x"; else
        row nvcc "$CUDA_MAJOR.x" "none (only needed to compile flash-attn)"; fi
    row flash-archs "" "$(flash_attn_archs) (MAX_JOBS=$(max_jobs) for a compile)"
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
    if [[ ${#blockers[@]} -gt 0 ]]; then
        joined="$(printf '%s; ' "${blockers[@]}")"
        say "install_gpu.sh --check: cannot train here: ${joined%; }"
        short=1
    fi
    if [[ "$short" == 0 ]]; then say "install_gpu.sh --check: everything at its pin"; else
        say "install_gpu.sh --check: something is missing or off its pin (run scripts/install_gpu.sh)"; fi
    exit "$short"
fi

# ---------------------------------------------------------------------------------------------
# Install: every check first (seconds), then the three steps.
fail() { say "install_gpu.sh: $*"; exit 2; }
p="$(python_problem)"; [[ -z "$p" ]] || fail "$p"
p="$(arch_problem)"; [[ -z "$p" ]] || fail "$p"
if [[ -z "${VIRTUAL_ENV:-}" && -z "${CONDA_PREFIX:-}" ]]; then
    fail "no active virtual environment; create one first: python3 -m venv .venv && . .venv/bin/activate"
fi
for check in driver_problem gpu_problem; do
    p="$("$check")"
    [[ -z "$p" ]] && continue
    [[ "${ALLOW_NO_GPU:-0}" == 1 ]] || fail "$p (ALLOW_NO_GPU=1 installs anyway)"
    say "install_gpu.sh: warning: $p; installing anyway (ALLOW_NO_GPU=1)"
done
driver_problem >/dev/null  # sets DRIVER_NOTE (the call above ran in a subshell)
[[ -z "$DRIVER_NOTE" ]] || say "install_gpu.sh: $DRIVER_NOTE"

have_flash_attn=0
if [[ "$(public "$(dist_version flash-attn)")" == "$FLASH_ATTN_VERSION" ]] && "$PY" -c 'import flash_attn' 2>/dev/null; then
    have_flash_attn=1
fi
WHEEL_FILE=""
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
if [[ "$have_flash_attn" == 0 && -n "${FLASH_ATTN_WHEEL:-}" ]]; then
    p="$(wheel_problem "$FLASH_ATTN_WHEEL")"; [[ -z "$p" ]] || fail "FLASH_ATTN_WHEEL: $p"
    want="$(printf '%s' "${FLASH_ATTN_WHEEL_SHA256:-}" | tr 'A-F' 'a-f')"
    if [[ "$FLASH_ATTN_WHEEL" == *://* ]]; then
        [[ -n "$want" ]] || fail "FLASH_ATTN_WHEEL is a URL: set FLASH_ATTN_WHEEL_SHA256 to its sha256 (from its publisher) so what runs is what was published"
        name="$("$PY" -c 'import sys, urllib.parse; print(urllib.parse.unquote(sys.argv[1].split("#")[0].split("?")[0].rsplit("/", 1)[-1]))' "$FLASH_ATTN_WHEEL")"
        say "[2/3 first] downloading $name"
        "$PY" -c 'import sys, urllib.request; urllib.request.urlretrieve(sys.argv[1], sys.argv[2])' \
            "$FLASH_ATTN_WHEEL" "$TMP/$name" || fail "FLASH_ATTN_WHEEL: download failed"
        WHEEL_FILE="$TMP/$name"
    else
        [[ -f "$FLASH_ATTN_WHEEL" ]] || fail "FLASH_ATTN_WHEEL=$FLASH_ATTN_WHEEL: no such file"
        WHEEL_FILE="$FLASH_ATTN_WHEEL"
    fi
    got="$(sha256_of "$WHEEL_FILE")"
    if [[ -n "$want" && "$got" != "$want" ]]; then
        fail "FLASH_ATTN_WHEEL: sha256 $got, expected $want (FLASH_ATTN_WHEEL_SHA256): not installing it"
    fi
    [[ -n "$want" ]] || say "install_gpu.sh: FLASH_ATTN_WHEEL sha256 $got (not checked: FLASH_ATTN_WHEEL_SHA256 unset)"
elif [[ "$have_flash_attn" == 0 ]]; then
    p="$(archs_problem)"; [[ -z "$p" ]] || fail "$p"
    nv="$(nvcc_major)"
    if [[ "$nv" != "$CUDA_MAJOR" ]]; then
        fail "compiling flash-attn needs nvcc $CUDA_MAJOR.x to match torch's CUDA (found: ${nv:-no nvcc}); install the CUDA $CUDA_MAJOR toolkit (and set CUDA_HOME), or set FLASH_ATTN_WHEEL to a prebuilt wheel (docs/train.md says where to get one)"
    fi
    command -v g++ >/dev/null 2>&1 || fail "compiling flash-attn needs g++ (apt-get install g++), or set FLASH_ATTN_WHEEL"
    [[ -n "$(gpu_archs)" || -n "${FLASH_ATTN_CUDA_ARCHS:-}" ]] \
        || say "install_gpu.sh: warning: no GPU to read the architecture from: compiling for $(flash_attn_archs) (hours; set FLASH_ATTN_CUDA_ARCHS to the cluster's, e.g. 90)"
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
if [[ "$have_flash_attn" == 1 ]]; then
    say "[2/3] flash-attn $FLASH_ATTN_VERSION already installed"
elif [[ -n "$WHEEL_FILE" ]]; then
    say "[2/3] flash-attn from $WHEEL_FILE"
    "$PY" -m pip install --no-deps "$WHEEL_FILE"
else
    archs="$(flash_attn_archs)" jobs="$(max_jobs)"
    say "[2/3] compiling flash-attn $FLASH_ATTN_VERSION against torch $TORCH_VERSION for sm $archs (MAX_JOBS=$jobs)"
    "$PY" -m pip install "${FLASH_ATTN_BUILD_DEPS[@]}"
    # FORCE_BUILD: flash-attn's setup.py would otherwise look for a prebuilt wheel named cu12 for
    # any CUDA >= 12, which does not fit torch's CUDA 13 build.
    FLASH_ATTENTION_FORCE_BUILD=TRUE FLASH_ATTN_CUDA_ARCHS="$archs" MAX_JOBS="$jobs" \
        "$PY" -m pip install --no-build-isolation "flash-attn==$FLASH_ATTN_VERSION"
fi
if [[ "$(public "$(dist_version flash-attn)")" != "$FLASH_ATTN_VERSION" ]]; then
    fail "flash-attn is $(dist_version flash-attn) after step 2, not $FLASH_ATTN_VERSION"
fi

# 3. the train extra; torch and flash-attn are already satisfied, so nothing is rebuilt.
say "[3/3] seekworld[train]"
if [[ "${EDITABLE:-1}" == 1 ]]; then
    "$PY" -m pip install -e "${ROOT}[train]"
else
    "$PY" -m pip install "${ROOT}[train]"
fi
if [[ "$(public "$(dist_version torch)")" != "$TORCH_VERSION" ]]; then
    say "install_gpu.sh: torch changed to $(dist_version torch) while installing the train extra; the pins disagree"
    exit 1
fi
imports='import torch, flash_attn, vllm, deepspeed, ray, openrlhf; print("imports ok; CUDA available:", torch.cuda.is_available())'
if [[ "${ALLOW_NO_GPU:-0}" == 1 ]]; then
    "$PY" -c "$imports" || say "install_gpu.sh: warning: the imports fail without a GPU here; seekworld train's preflight checks them on the GPU node"
else
    "$PY" -c "$imports"
    "$PY" -c 'import sys, torch; sys.exit(not torch.cuda.is_available())' \
        || { say "install_gpu.sh: installed, but torch.cuda.is_available() is False: check the driver (and, with forward compatibility, that the GPU is a data-center one)"; exit 1; }
fi
say "done; scripts/install_gpu.sh --check reports the versions"
