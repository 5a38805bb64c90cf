"""scripts/install_gpu.sh: every check that can stop an install runs first, in seconds, before any
download; `--check` reports. (`--resolve` needs the network and runs in .ci/run.)

TEST STAND-INS (this machine has no GPU, no NVIDIA driver and no Python 3.13), each a small script
on PATH or in PYTHON, written here:
- `nvidia-smi`: prints the GPU lines (driver, compute capability, name) a test gives it;
- `nvcc`: prints a CUDA 13.0 release line;
- a Python 3.13: the real interpreter, except that it reports its version as 3.13;
- a pip: the real interpreter, except that `-m pip ...` is recorded (with the flash-attn build
  variables) instead of run, so no test downloads or installs anything.
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "install_gpu.sh"
H100 = "550.54.15, 9.0, NVIDIA H100 80GB HBM3"
H100_580 = "580.65.06, 9.0, NVIDIA H100 80GB HBM3"
GOOD_WHEEL = "flash_attn-2.8.3+cu130torch2.13cxx11abiTRUE-cp{v}-cp{v}-linux_x86_64.whl".format(
    v=f"{sys.version_info[0]}{sys.version_info[1]}"
)


def executable(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


class Machine:
    """A PATH of stand-ins and the environment the script runs in."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.bin = tmp / "bin"
        self.bin.mkdir()
        self.pip_log = tmp / "pip.log"
        self.env = {"PATH": f"{self.bin}:/usr/bin:/bin", "PYTHON": sys.executable, "HOME": str(Path.home())}

    def gpus(self, *lines: str) -> Machine:
        body = "".join(f"echo '{line}'\n" for line in lines)
        executable(self.bin / "nvidia-smi", f"#!/bin/sh\n{body}")
        return self

    def nvcc(self) -> Machine:
        executable(self.bin / "nvcc", "#!/bin/sh\necho 'Cuda compilation tools, release 13.0, V13.0.88'\n")
        return self

    def python(self, version: str | None = None) -> Machine:
        """PYTHON: the real one, recording pip instead of running it; reporting `version`."""
        fake_version = f'case "$*" in *version_info*) echo {version}; exit 0;; esac\n' if version else ""
        script = executable(
            self.tmp / "python",
            "#!/bin/bash\n"
            + fake_version
            + 'if [ "$1" = -m ] && [ "$2" = pip ]; then\n'
            + '  echo "ARCHS=$FLASH_ATTN_CUDA_ARCHS JOBS=$MAX_JOBS FORCE=$FLASH_ATTENTION_FORCE_BUILD :: $*"'
            + f" >> {self.pip_log}\n"
            + "  exit 0\nfi\n"
            + f'exec {sys.executable} "$@"\n',
        )
        self.env["PYTHON"] = str(script)
        return self

    def venv(self) -> Machine:
        self.env["VIRTUAL_ENV"] = str(self.tmp / "venv")  # only read to see that one is active
        return self

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["bash", str(SCRIPT), *args], capture_output=True, text=True, env={**self.env, **env}, timeout=120
        )

    def pip_calls(self) -> list[str]:
        return self.pip_log.read_text().splitlines() if self.pip_log.exists() else []


@pytest.fixture
def machine(tmp_path):
    return Machine(tmp_path)


def rows(out: str) -> dict[str, list[str]]:
    return {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.strip()}


# ---- --check on this machine, as it is -------------------------------------------------------


def test_check_reports_each_pin_and_fails_without_a_gpu_stack(machine):
    done = machine.run("--check")
    found = rows(done.stdout)
    assert found["torch"][0] == "2.13.0" and found["flash-attn"][0] == "2.8.3"
    assert found["nvidia-driver"][0] == ">=580" and found["python"][0] == "3.10-3.12"
    assert found["platform"][:2] == ["x86_64", os.uname().machine] and found["gpu"] == ["sm80+", "none"]
    # no GPU here: the driver is missing, so --check says so and exits 1, having installed nothing
    assert done.returncode == 1 and "something is missing or off its pin" in done.stderr
    assert "cannot train here: no NVIDIA driver or GPU (nvidia-smi not found" in done.stderr


def test_unknown_argument_is_refused(machine):
    done = machine.run("--instal")
    assert done.returncode == 2 and "unknown argument" in done.stderr


def test_install_without_a_venv_is_refused_before_touching_anything(machine):
    done = machine.python().run()
    assert done.returncode == 2 and "no active virtual environment" in done.stderr
    assert machine.pip_calls() == []


# ---- Python, driver, GPU: refused at once ---------------------------------------------------


def test_python_3_13_is_refused_in_one_line(machine):
    machine.python("3.13").venv().gpus(H100_580)
    done = machine.run()
    assert done.returncode == 2 and machine.pip_calls() == []
    assert done.stderr.strip() == (
        "install_gpu.sh: Python 3.13: openrlhf 0.11.2 publishes wheels for Python 3.10-3.12 only "
        "(and no source package); make the venv with python3.12"
    )
    check = machine.run("--check")
    verdict = [line for line in check.stderr.splitlines() if "cannot train here" in line]
    assert check.returncode == 1 and len(verdict) == 1 and "Python 3.13: openrlhf 0.11.2" in verdict[0]


def test_an_old_driver_is_refused_without_forward_compatibility(machine):
    done = machine.python().venv().gpus(H100).run()
    assert done.returncode == 2 and machine.pip_calls() == []
    assert "NVIDIA driver 550.54.15: torch 2.13.0 (CUDA 13.0) needs >= 580, or, in a container" in done.stderr


def compat_dir(tmp: Path, version: str = "580.65.06") -> str:
    """A stand-in for /usr/local/cuda/compat: libcuda.so.<version of the driver it comes from>."""
    d = tmp / f"compat-{version}"
    d.mkdir()
    (d / f"libcuda.so.{version}").write_bytes(b"")  # the name is what is read
    (d / "libcuda.so.1").symlink_to(d / f"libcuda.so.{version}")
    return str(d)


def test_forward_compatibility_lets_an_old_driver_through_on_a_data_center_gpu(machine, tmp_path):
    machine.python().venv().gpus(H100)
    compat = compat_dir(tmp_path)
    done = machine.run(CUDA_COMPAT_DIR=compat)
    # past the driver check; stopped at the next one (no nvcc for a compile), still before any pip
    assert "forward compatibility (libcuda 580.65.06" in done.stderr
    assert done.returncode == 2 and "compiling flash-attn needs nvcc 13.x" in done.stderr
    assert machine.pip_calls() == []
    check = machine.run("--check", CUDA_COMPAT_DIR=compat)
    driver = " ".join(rows(check.stdout)["nvidia-driver"])
    assert driver == ">=580 550.54.15 (forward compatibility: libcuda 580.65.06)"
    assert "cannot train here: NVIDIA driver" not in check.stderr


def test_forward_compatibility_is_refused_on_a_geforce(machine, tmp_path):
    machine.python().venv().gpus("550.54.15, 8.9, NVIDIA GeForce RTX 4090")
    done = machine.run(CUDA_COMPAT_DIR=compat_dir(tmp_path))
    assert done.returncode == 2
    assert "works on data-center GPUs only, not on NVIDIA GeForce RTX 4090" in done.stderr
    too_old = machine.gpus(H100).run(CUDA_COMPAT_DIR=compat_dir(tmp_path, "570.86.10"))
    assert too_old.returncode == 2 and "needs >= 580" in too_old.stderr


def test_a_gpu_below_sm80_is_refused_naming_the_trl_backend(machine):
    done = machine.python().venv().gpus("580.65.06, 7.5, Tesla T4").run()
    assert done.returncode == 2 and machine.pip_calls() == []
    assert "Tesla T4 (sm75): the OpenRLHF path needs compute capability 8.0+" in done.stderr
    assert "--backend trl" in done.stderr


def test_allow_no_gpu_warns_and_goes_on(machine):
    machine.python().venv().nvcc()
    done = machine.run(ALLOW_NO_GPU="1")
    assert "warning: no NVIDIA driver or GPU" in done.stderr and "installing anyway" in done.stderr
    assert "no GPU to read the architecture from: compiling for 80;90;100;120" in done.stderr
    compile_line = [c for c in machine.pip_calls() if "flash-attn==2.8.3" in c]
    assert compile_line and compile_line[0].startswith("ARCHS=80;90;100;120 ")


# ---- flash-attn: the architectures, the jobs, the wheel ---------------------------------------


@pytest.mark.parametrize(
    ("gpu_lines", "archs"),
    [
        ((H100_580,), "90"),
        (("580.65.06, 8.6, NVIDIA A10", "580.65.06, 9.0, NVIDIA H100"), "80;90"),  # sm80 code runs on 8.6
        (("580.65.06, 8.9, NVIDIA L4",), "80"),
        (("580.65.06, 10.0, NVIDIA B200",), "100"),
        (("580.65.06, 12.0, NVIDIA RTX PRO 6000 Blackwell",), "120"),
    ],
)
def test_compile_is_for_the_gpus_present_with_jobs_from_cores_and_memory(machine, gpu_lines, archs):
    done = machine.python().venv().nvcc().gpus(*gpu_lines).run()
    cores = os.cpu_count() or 2
    gb = int(next(line for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemAvailable")).split()[1]) // 1048576  # fmt: skip
    jobs = min(max(1, cores // 2), max(1, gb // 9))
    calls = machine.pip_calls()
    assert any("install packaging==26.3 ninja==1.13.2" in c for c in calls), calls
    (build,) = [c for c in calls if "flash-attn==2.8.3" in c]
    assert build.startswith(f"ARCHS={archs} JOBS={jobs} FORCE=TRUE :: -m pip install --no-build-isolation")
    # the stand-in pip installs nothing, so the script stops right after, saying so
    assert done.returncode == 2 and "flash-attn is  after step 2, not 2.8.3" in done.stderr
    assert machine.run(MAX_JOBS="3") and machine.pip_calls()[-1].split()[1] == "JOBS=3"


def test_a_gpu_flash_attn_cannot_build_for_is_refused(machine):
    done = machine.python().venv().nvcc().gpus("580.65.06, 11.0, NVIDIA Thor").run()
    assert done.returncode == 2
    assert "flash-attn 2.8.3 has no kernels for (it builds 80 90 100 120)" in done.stderr
    assert machine.pip_calls() == []
    bad = machine.gpus(H100_580).run(FLASH_ATTN_CUDA_ARCHS="86")
    assert bad.returncode == 2 and "FLASH_ATTN_CUDA_ARCHS=86: '86' is not one of 80 90 100 120" in bad.stderr


def test_check_shows_the_architectures_and_jobs(machine):
    machine.gpus("580.65.06, 8.0, NVIDIA A100", "580.65.06, 9.0, NVIDIA H100")
    done = machine.run("--check", MAX_JOBS="5")
    assert rows(done.stdout)["flash-archs"] == ["80;90", "(MAX_JOBS=5", "for", "a", "compile)"]
    assert rows(done.stdout)["gpu"] == ["sm80+", "8.0,9.0"]


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        (GOOD_WHEEL.replace("2.8.3+", "2.8.3.post2+"), "is flash-attn 2.8.3.post2; openrlhf 0.11.2 pins"),
        (GOOD_WHEEL.replace("2.8.3+", "2.8.2+"), "is flash-attn 2.8.2"),
        (GOOD_WHEEL.replace("+cu130", "+cu12"), "is built for CUDA 12; torch 2.13 here is the CUDA 13 build"),
        (GOOD_WHEEL.replace("torch2.13", "torch2.9"), "is built for torch 2.9; this install uses torch 2.13"),
        ("flash_attn-2.8.3-cp39-cp39-linux_x86_64.whl", "is for cp39; this Python is cp"),
        (GOOD_WHEEL.replace("x86_64", "aarch64"), "is for linux_aarch64; this machine is x86_64"),
        ("flash-attn.tar.gz", "is not a flash-attn wheel"),
    ],
)
def test_a_wheel_that_does_not_fit_is_refused_before_any_download(machine, tmp_path, name, problem):
    wheel = tmp_path / name
    wheel.write_bytes(b"not really a wheel")
    done = machine.python().venv().gpus(H100_580).run(FLASH_ATTN_WHEEL=str(wheel))
    assert done.returncode == 2 and problem in done.stderr
    assert done.stderr.startswith("install_gpu.sh: FLASH_ATTN_WHEEL: ")
    assert machine.pip_calls() == []


def test_a_wheel_url_needs_its_sha256_and_a_file_is_checked_against_it(machine, tmp_path):
    wheel = tmp_path / GOOD_WHEEL
    wheel.write_bytes(b"stand-in wheel bytes")
    digest = hashlib.sha256(b"stand-in wheel bytes").hexdigest()
    machine.python().venv().gpus(H100_580)
    url = wheel.as_uri().replace("+", "%2B")  # as a release page would link it
    no_sum = machine.run(FLASH_ATTN_WHEEL=url)
    assert no_sum.returncode == 2 and "is a URL: set FLASH_ATTN_WHEEL_SHA256" in no_sum.stderr
    wrong = machine.run(FLASH_ATTN_WHEEL=str(wheel), FLASH_ATTN_WHEEL_SHA256="0" * 64)
    assert wrong.returncode == 2 and f"sha256 {digest}, expected {'0' * 64}" in wrong.stderr
    assert machine.pip_calls() == []
    right = machine.run(FLASH_ATTN_WHEEL=url, FLASH_ATTN_WHEEL_SHA256=digest.upper())
    installs = [c.split(" :: ")[1] for c in machine.pip_calls()]
    assert installs[-1].startswith("-m pip install --no-deps /") and installs[-1].endswith(GOOD_WHEEL)
    assert not any("flash-attn==" in c for c in installs)  # nothing compiled
    assert "flash-attn is  after step 2" in right.stderr  # the stand-in pip installed nothing
