"""The lock files (locks/*.txt, scripts/lock.sh) and the installed environment against its lock."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from benchmark.baselines.registry import BASELINES
from benchmark.common import lock
from benchmark.common.metrics_file import LockRecord

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# The platforms whose resolution the locks are checked for (their markers); which of them have a wheel
# for every pin, scripts/lock.sh says (that needs the registry).
PLATFORMS = {
    "linux-x86_64": {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64", "os_name": "posix"},
    "linux-aarch64": {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "aarch64", "os_name": "posix"},
    "macos-arm64": {"sys_platform": "darwin", "platform_system": "Darwin", "platform_machine": "arm64", "os_name": "posix"},
    "windows-amd64": {"sys_platform": "win32", "platform_system": "Windows", "platform_machine": "AMD64", "os_name": "nt"},
}


def python(version: str) -> dict:
    return {"python_version": version, "python_full_version": f"{version}.0", "implementation_name": "cpython",
            "platform_python_implementation": "CPython"}


def requirements(device: str) -> list[Requirement]:
    """What the main lock of ``device`` must satisfy: the dependencies, the extras the set-up installs
    (test, export and the device's) and the build backend."""
    extras = PROJECT["project"]["optional-dependencies"]
    return [Requirement(r) for r in [*PROJECT["project"]["dependencies"], *extras["test"], *extras["export"],
                                      *extras[device], *PROJECT["build-system"]["requires"]]]


def assert_satisfied(path: Path, wanted: list[Requirement], environment: dict) -> dict[str, str]:
    """Every requirement of ``wanted`` that applies in ``environment`` has a pin in the lock that its
    specifier allows; the lock's pins there."""
    pinned = lock.pins(path, environment)
    for requirement in wanted:
        if requirement.marker is None or requirement.marker.evaluate(environment):
            name = lock.canonical(requirement.name)
            assert name in pinned, f"{path.name}: {requirement} has no pin for {environment}"
            assert requirement.specifier.contains(pinned[name], prereleases=True), (path.name, str(requirement), pinned[name])
    return pinned


@pytest.mark.parametrize("device", ["cpu", "gpu"])
@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("version", ["3.10", "3.11", "3.12", "3.13"])
def test_the_main_locks_satisfy_pyproject_on_every_platform(device, platform, version):
    environment = PLATFORMS[platform] | python(version)
    pinned = assert_satisfied(lock.lock_file(device), requirements(device), environment)
    tensorflow = {name for name in pinned if name.startswith("tensorflow")}
    if device == "cpu" and platform == "linux-x86_64":
        assert tensorflow == {"tensorflow-cpu"}  # the CPU build: no CUDA libraries
    elif device == "gpu" and platform.startswith("linux"):
        assert tensorflow == {"tensorflow"} and "nvidia-cudnn-cu12" in pinned  # tensorflow[and-cuda]
    else:
        assert tensorflow == {"tensorflow"} and not any(name.startswith("nvidia-") for name in pinned)


@pytest.mark.parametrize("spec", BASELINES.values(), ids=lambda s: s.name)
def test_each_baseline_lock_satisfies_its_requirements(spec):
    low, high = spec.python
    for minor in range(low[1], high[1] + 1):
        for platform in ("linux-x86_64", "macos-arm64"):
            assert_satisfied(lock.lock_file(spec.name), [Requirement(r) for r in spec.requirements],
                             PLATFORMS[platform] | python(f"{low[0]}.{minor}"))


@pytest.mark.parametrize("path", sorted((ROOT / "locks").glob("*.txt")), ids=lambda p: p.name)
def test_every_pin_is_exact_and_hashed(path):
    """``pip install --require-hashes`` accepts only ``name==version`` with at least one hash each,
    and the file says how to regenerate it."""
    text = path.read_text()
    assert "scripts/lock.sh" in text.split("\n", 2)[1]
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
    assert len(entries) > 50
    for entry in entries:
        assert re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]*==\S+", entry) and "--hash=sha256:" in entry, entry[:80]


def test_pins_evaluate_markers_and_differences_name_each_package(tmp_path):
    path = tmp_path / "lock.txt"
    path.write_text("# header\n#    scripts/lock.sh\n"
                    "numpy==2.2.6 ; python_full_version < '3.11' \\\n    --hash=sha256:aa\n"
                    "numpy==2.4.6 ; python_full_version >= '3.11' \\\n    --hash=sha256:bb\n"
                    "Tensorflow_CPU==2.21.0 ; platform_machine == 'x86_64' and sys_platform == 'linux' \\\n"
                    "    --hash=sha256:cc\n    # via infant-pose-benchmark (pyproject.toml)\n"
                    "keras==3.15.1 \\\n    --hash=sha256:dd\n")
    old = lock.pins(path, python("3.10") | PLATFORMS["macos-arm64"])
    assert old == {"numpy": "2.2.6", "keras": "3.15.1"}
    new = lock.pins(path, python("3.12") | PLATFORMS["linux-x86_64"])
    assert new == {"numpy": "2.4.6", "tensorflow-cpu": "2.21.0", "keras": "3.15.1"}
    present = {"numpy": "2.4.6", "keras": "3.16.0", "pip": "26.3", "uv": "0.13.9"}
    assert lock.differences(new, present) == ["keras 3.16.0 (lock 3.15.1)", "tensorflow-cpu missing (lock 2.21.0)",
                                              "uv 0.13.9 (not in the lock)"]
    assert lock.extraneous(new, present) == ["uv"]  # pip is the installer's own
    assert lock.differences(new, new) == []


def test_the_install_record_reads_the_marker_and_compares_with_the_lock(tmp_path):
    assert lock.install_record.__wrapped__(str(tmp_path)) == {"mode": "unmanaged"}
    lock.write_marker("locked", lock.lock_file("cpu"), "cpu", prefix=tmp_path)
    record = lock.install_record.__wrapped__(str(tmp_path))
    assert record["mode"] == "locked" and record["lock"] == "locks/cpu.txt"
    assert record["sha256"] == lock.digest(lock.lock_file("cpu")) and "lock_changed" not in record
    assert record["matches"] == (not record["differences"])  # this interpreter's packages, whatever they are
    LockRecord.model_validate(record)  # what metrics.json accepts


def test_this_environment_is_the_lock_it_was_installed_from():
    """In an environment the set-up installed from a lock (CI's and the README commands'): every
    installed distribution at its locked version for this platform, nothing missing, nothing else."""
    marker = lock.read_marker(sys.prefix)
    if marker is None or marker["mode"] != "locked":
        pytest.skip(f"{sys.prefix} was not installed from a lock by scripts/bootstrap.sh "
                    f"({'no ' + lock.MARKER if marker is None else 'INFANT_POSE_DEPS=' + marker['mode']})")
    path = ROOT / marker["lock"]
    assert lock.digest(path) == marker["sha256"], f"{path} changed since the install: run ./run_tests.sh to reinstall"
    assert lock.differences(lock.pins(path), lock.installed()) == []
    assert lock.install_record()["matches"] is True


def test_a_baseline_environment_installs_its_lock_exactly_or_the_newest_beside_it(tmp_path, monkeypatch):
    """``.venv-<name>`` gets the baseline's lock, hash-checked, and loses what the lock does not list;
    ``INFANT_POSE_DEPS=latest`` builds ``.venv-latest-<name>`` from its requirements instead."""
    from benchmark.baselines import environments

    spec, calls = BASELINES["mediapipe_pose"], []

    def run(command, what):
        command = [str(c) for c in command]
        calls.append(command)
        if command[1:3] == ["-m", "venv"]:
            Path(command[3]).mkdir(parents=True, exist_ok=True)
        if "ipykernel" in command:
            kernel = Path(command[command.index("--prefix") + 1]) / "share" / "jupyter" / "kernels" / spec.kernel
            kernel.mkdir(parents=True, exist_ok=True)
            (kernel / "kernel.json").write_text("{}")
        return "mediapipe==0.10.21\nsetuptools==65.5.0\npip==24.0\n" if "list" in command else ""

    monkeypatch.setattr(environments, "_run", run)
    assert environments.build(spec, root=tmp_path, prefix=tmp_path / "main", version=(3, 11)) is None
    env = tmp_path / ".venv-mediapipe_pose"
    path = str(lock.lock_file("mediapipe_pose"))
    assert [env / "bin" / "python", "-m", "pip", "install", "--quiet", "--require-hashes", "--no-deps", "-r", path] \
        == [Path(calls[1][0]), *calls[1][1:]]
    assert calls[3][-3:] == ["--quiet", "--yes", "setuptools"]  # what a new venv brings and the lock does not list
    assert lock.read_marker(env) == {"mode": "locked", "lock": "locks/mediapipe_pose.txt",
                                     "sha256": lock.digest(path), "device": "cpu"}
    calls.clear()
    assert environments.build(spec, root=tmp_path, prefix=tmp_path / "main", version=(3, 11)) is None
    assert calls == []  # up to date

    assert environments.build(spec, root=tmp_path, prefix=tmp_path / "latest", version=(3, 11), deps="latest") is None
    assert calls[1][-len(spec.requirements) - 1:] == ["--upgrade", *spec.requirements]
    assert str(tmp_path / ".venv-latest-mediapipe_pose") in calls[0]
    assert lock.read_marker(tmp_path / ".venv-latest-mediapipe_pose")["mode"] == "latest"
    assert lock.read_marker(env)["mode"] == "locked"  # the locked one untouched


def test_every_result_records_the_lock_and_the_cpu_features(tmp_path):
    """environment.record() carries the install record, and metrics.json's schema checks it."""
    from benchmark.common.environment import CPU_FEATURES, record
    from benchmark.common.metrics_file import ResultsError, read_metrics, write_metrics

    environment = record(backend="numpy", device_name="CPU", packages={"numpy": "2.4.6"})
    assert environment["lock"] == lock.install_record() and set(environment["cpu_features"]) <= set(CPU_FEATURES)
    summary = {"kind": "reference", "config": {}, "wall_time_s": 1.0, "metrics": {}, "reference": {},
               "dataset": {"root": "r", "fingerprint": "f", "synthetic": True, "frames": {}}, "environment": environment}
    assert read_metrics(write_metrics(tmp_path, summary).parent)["environment"]["lock"] == environment["lock"]
    (tmp_path / "metrics.json").write_text((tmp_path / "metrics.json").read_text().replace(
        f'"mode": "{environment["lock"]["mode"]}"', '"mode": "sideways"'))
    with pytest.raises(ResultsError, match=r"metrics.json: environment.lock.mode: Input should be 'locked'"):
        read_metrics(tmp_path)
