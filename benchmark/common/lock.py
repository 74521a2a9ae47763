"""The lock files (``locks/*.txt``): every Python dependency of an environment at an exact version,
with hashes, and whether an installed environment matches its lock.

``scripts/lock.sh`` writes them (``uv pip compile --universal --generate-hashes``: one file for every
platform and Python, each pin under its environment marker); ``scripts/bootstrap.sh`` installs one
(``pip install --require-hashes --no-deps -r``) and records what it installed in
``<prefix>/`` :data:`MARKER`. :func:`install_record` is what :func:`benchmark.common.environment.record`
adds to every result: the install's mode, its lock's hash, and the installed versions that differ
from the lock. This module uses the standard library only (and ``packaging``, or pip's copy of it in
a virtual environment that has nothing else yet), so the set-up can run it before installing.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from functools import lru_cache
from importlib import metadata
from pathlib import Path

try:
    from packaging.markers import Marker
except ImportError:  # a new virtual environment: pip's own copy
    from pip._vendor.packaging.markers import Marker

ROOT = Path(__file__).resolve().parents[2]
LOCKS = ROOT / "locks"
MARKER = "infant-pose-install.json"  # in the environment's prefix, written by the set-up
IGNORED = {"pip", "infant-pose-benchmark"}  # the installer, and the project itself (installed editable)
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?\s*$")


def canonical(name: str) -> str:
    """A distribution's name as the registry compares it (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_file(name: str) -> Path:
    """``locks/<name>.txt``: ``cpu`` or ``gpu`` (the main environment), or a baseline's name."""
    return LOCKS / f"{name}.txt"


def digest(path: Path) -> str:
    """The first 16 hex digits of the file's SHA-256: what results record of their lock."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def pins(path: Path, environment: dict | None = None) -> dict[str, str]:
    """``{name: version}`` of the lock's pins whose marker holds here (or in ``environment``, marker
    variables such as ``{"sys_platform": "darwin"}`` over this interpreter's)."""
    found = {}
    for line in Path(path).read_text().splitlines():
        match = _PIN.match(line)
        if match and (not match[3] or Marker(match[3]).evaluate(environment)):
            found[canonical(match[1])] = match[2]
    return found


def installed() -> dict[str, str]:
    """``{name: version}`` of the distributions installed in this environment."""
    return {canonical(d.metadata["Name"]): d.version for d in metadata.distributions() if d.metadata["Name"]}


def differences(locked: dict[str, str], present: dict[str, str]) -> list[str]:
    """What ``present`` (installed versions) does not share with ``locked``, one phrase per package,
    e.g. ``keras 3.16.0 (lock 3.15.1)``; :data:`IGNORED` packages aside."""
    names = sorted((set(locked) | set(present)) - IGNORED)
    return [f"{n} {present.get(n, 'missing')} ({'lock ' + locked[n] if n in locked else 'not in the lock'})"
            for n in names if locked.get(n) != present.get(n)]


def extraneous(locked: dict[str, str], present: dict[str, str]) -> list[str]:
    """Installed packages the lock does not list (to remove before installing it: TensorFlow's CPU
    and GPU builds, say, hold the same files)."""
    return sorted(set(present) - set(locked) - IGNORED)


def read_marker(prefix: Path | str = sys.prefix) -> dict | None:
    """What the set-up recorded of the install in ``prefix`` (None: not installed by the set-up)."""
    try:
        return json.loads((Path(prefix) / MARKER).read_text())
    except (OSError, ValueError):
        return None


def write_marker(mode: str, lock: Path, device: str, prefix: Path | str = sys.prefix) -> Path:
    """Record that ``prefix`` was installed in ``mode`` (``locked``: from ``lock``; ``latest``: the
    newest versions pyproject.toml allows, compared with ``lock``) for ``device``."""
    path = Path(prefix) / MARKER
    path.write_text(json.dumps({"mode": mode, "lock": _relative(lock), "sha256": digest(lock), "device": device},
                               indent=1) + "\n")
    return path


@lru_cache(maxsize=1)
def install_record(prefix: str = sys.prefix) -> dict:
    """The lock part of the environment record: ``mode`` (``locked``, ``latest`` or ``unmanaged``:
    not installed by the set-up), the lock file and its hash, whether the installed versions match
    it and which differ (at most 20 named, ``differences_total`` counts them all)."""
    marker = read_marker(prefix)
    if marker is None:
        return {"mode": "unmanaged"}
    lock = ROOT / marker.get("lock", "")
    record = {"mode": marker.get("mode", "unknown"), "lock": marker.get("lock"), "sha256": marker.get("sha256"),
              "device": marker.get("device")}
    if not lock.is_file():
        return record | {"matches": None, "differences": [f"{marker.get('lock')} not found"]}
    if digest(lock) != marker.get("sha256"):
        record["lock_changed"] = digest(lock)  # the lock was edited since the install: bootstrap reinstalls
    found = differences(pins(lock), installed())
    return record | {"matches": not found, "differences": found[:20], "differences_total": len(found)}


def _relative(path: Path) -> str:
    path = Path(path).resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def main(argv: list[str]) -> int:
    """The set-up's helper: ``extraneous LOCK`` (names to uninstall), ``moved LOCK`` (installed
    versions that differ from the lock, one a line), ``mark MODE LOCK DEVICE`` (write the marker)."""
    command = argv[0]
    if command == "extraneous":
        print("\n".join(extraneous(pins(Path(argv[1])), installed())))
    elif command == "moved":
        print("\n".join(differences(pins(Path(argv[1])), installed())) or f"none: every package is at its {argv[1]} version")
    elif command == "mark":
        write_marker(argv[1], Path(argv[2]), argv[3])
    else:
        print(f"unknown command {command!r}: extraneous, moved or mark", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
