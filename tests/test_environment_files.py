"""pyproject.toml and environment.yml must declare the same dependencies.

environment.yml installs the cpu extra and carries the gpu extra as commented lines (``# - req``),
the alternative for machines with an NVIDIA GPU.
"""

import re
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
ALTERNATIVE = "gpu"  # the extra environment.yml lists commented out


def _normalise(requirement: str) -> str:
    return re.sub(r"\s+", "", requirement).lower()


def test_environment_yml_mirrors_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    declared = project["dependencies"] + [r for name, extra in extras.items() if name != ALTERNATIVE for r in extra]
    conda = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    pip_section = next(d["pip"] for d in conda if isinstance(d, dict))
    mirrored = [r for r in pip_section if not r.startswith("-e")]
    assert sorted(set(map(_normalise, mirrored))) == sorted(set(map(_normalise, declared)))
    assert len(mirrored) == len(set(map(_normalise, mirrored)))  # each requirement listed once
    commented = re.findall(r"^\s*#\s*-\s*(\S.*)$", (ROOT / "environment.yml").read_text(), flags=re.M)
    assert sorted(map(_normalise, commented)) == sorted(map(_normalise, extras[ALTERNATIVE]))


def test_baseline_environments_mirror_their_requirements():
    """Each zero-shot baseline's conda file lists its registry requirements, and a Python it supports."""
    from benchmark.baselines.registry import BASELINES

    for spec in BASELINES.values():
        conda = yaml.safe_load((ROOT / f"environment-{spec.name}.yml").read_text())
        assert conda["name"] == spec.kernel
        pip_section = next(d["pip"] for d in conda["dependencies"] if isinstance(d, dict))
        assert sorted(map(_normalise, pip_section)) == sorted(map(_normalise, spec.requirements))
        python = next(d for d in conda["dependencies"] if isinstance(d, str) and d.startswith("python="))
        assert spec.python[0] <= tuple(int(x) for x in python.split("=")[1].split(".")) <= spec.python[1]


def test_the_backend_is_in_the_device_extras():
    """The base dependencies hold no backend build; cpu and gpu extras each give TensorFlow everywhere."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not [r for r in project["dependencies"] if Requirement(r).name.startswith("tensorflow")]
    extras = project["optional-dependencies"]
    for device in ("cpu", "gpu"):
        for platform in ({"sys_platform": "linux", "platform_machine": "x86_64"},
                         {"sys_platform": "linux", "platform_machine": "aarch64"},
                         {"sys_platform": "darwin", "platform_machine": "arm64"}):
            chosen = [Requirement(r) for r in extras[device] if Requirement(r).marker.evaluate(platform)]
            assert len(chosen) == 1 and chosen[0].name.startswith("tensorflow"), (device, platform)
    gpu_linux = [Requirement(r) for r in extras["gpu"] if Requirement(r).marker.evaluate({"sys_platform": "linux"})]
    assert gpu_linux[0].name == "tensorflow" and gpu_linux[0].extras == {"and-cuda"}


def test_python_version_satisfies_requires_python():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    minimum = tuple(int(x) for x in re.search(r">=\s*([\d.]+)", project["requires-python"]).group(1).split("."))
    conda = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    python = next(d for d in conda if isinstance(d, str) and d.startswith("python="))
    assert tuple(int(x) for x in python.split("=")[1].split(".")) >= minimum


def test_the_conda_files_admit_the_locked_versions():
    """environment.yml's requirements (and its commented gpu lines) hold for the versions of
    locks/cpu.txt (locks/gpu.txt) at its Python on Linux x86-64; each baseline's conda file's for its
    lock: after `conda env create`, `pip install --require-hashes --no-deps -r locks/<lock>.txt` gives
    exactly the locked versions."""
    from benchmark.baselines.registry import BASELINES
    from benchmark.common import lock

    def check(conda_file: Path, requirements: list[str], lock_name: str) -> None:
        conda = yaml.safe_load(conda_file.read_text())["dependencies"]
        version = next(d for d in conda if isinstance(d, str) and d.startswith("python=")).split("=")[1]
        here = {"sys_platform": "linux", "platform_machine": "x86_64", "platform_system": "Linux",
                "python_version": version, "python_full_version": f"{version}.0"}
        pinned = lock.pins(lock.lock_file(lock_name), here)
        for requirement in map(Requirement, requirements):
            if requirement.marker is None or requirement.marker.evaluate(here):
                assert requirement.specifier.contains(pinned[lock.canonical(requirement.name)]), (lock_name, str(requirement))

    text = (ROOT / "environment.yml").read_text()
    pip_section = next(d["pip"] for d in yaml.safe_load(text)["dependencies"] if isinstance(d, dict))
    check(ROOT / "environment.yml", [r for r in pip_section if not r.startswith("-")], "cpu")
    check(ROOT / "environment.yml", re.findall(r"^\s*#\s*-\s*(\S.*)$", text, flags=re.M), "gpu")
    assert "locks/cpu.txt" in text and "locks/gpu.txt" in text  # the comments say how to install the lock
    for spec in BASELINES.values():
        check(ROOT / f"environment-{spec.name}.yml", list(spec.requirements), spec.name)
        assert f"locks/{spec.name}.txt" in (ROOT / f"environment-{spec.name}.yml").read_text()
