"""Which dataset a run uses, where its root is, and the name its results and reports are kept under.

A dataset the manifest defines (generator settings or a fixed ``path``) is named by its manifest
entry (``synthetic``, ``synthetic-smoke``); one whose root comes from outside (``--data PATH``, or an
``env`` entry such as ``real``, whose environment variable holds the root) by its folder name and the
first 8 hex digits of its fingerprint (``sample_data-1a2b3c4d``, :func:`root_name`), so two different
folders, or a folder whose files changed, never share results. The run plan
(:mod:`benchmark.runner.plan`) puts these names into results paths.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from benchmark.data.layout import SYNTH_SETTINGS
from benchmark.runner.manifest import LoadedManifest, ManifestError


def entry(manifest: LoadedManifest, profile: str, dataset: str | None = None) -> str:
    """The manifest dataset a run uses: ``dataset`` if given, else the profile's."""
    if dataset is None:
        return manifest.profile(profile).dataset
    if dataset not in manifest.data.datasets:
        raise ManifestError(f"{manifest.path}: unknown dataset {dataset!r} "
                            f"(defined: {', '.join(manifest.data.datasets)})")
    return dataset


def given_root(manifest: LoadedManifest, name: str, data: Path | None = None) -> Path | None:
    """The root given from outside: ``data`` (``--data``), else the environment variable of an
    ``env`` entry; None for a dataset the manifest defines."""
    if data is not None:
        if not Path(data).is_dir():
            raise FileNotFoundError(f"--data {data}: no such dataset folder")
        return Path(data)
    variable = manifest.data.datasets[name].env
    if variable is None:
        return None
    value = os.environ.get(variable, "").strip()
    if not value:
        raise manifest.error(("datasets", name, "env"), f"dataset {name!r} takes its root from the environment "
                             f"variable {variable}, which is not set: set it to the dataset folder or pass --data PATH")
    if not Path(value).is_dir():
        raise FileNotFoundError(f"{variable}={value}: no such dataset folder (dataset {name!r} of {manifest.path})")
    return Path(value)


def root_name(root: Path, fingerprint: str) -> str:
    """The results folder name of a root given from outside: its folder name and the first 8 hex
    digits of its fingerprint (module docstring)."""
    return f"{Path(root).resolve().name}-{fingerprint[:8]}"


def resolve_dataset(manifest: LoadedManifest, profile: str, data: Path | None = None,
                    data_dir: Path = Path("data"), progress: bool = True, dataset: str | None = None) -> Path:
    """The dataset root of a run: ``data`` if given, else that of the manifest dataset ``dataset``
    (default: the profile's), generated into ``data_dir`` if synthetic."""
    name = entry(manifest, profile, dataset)
    root = given_root(manifest, name, data)
    if root is not None:
        return root
    spec = manifest.data.datasets[name]
    if spec.path is not None:
        return Path(spec.path)
    from benchmark.data.synth.generate import GENERATOR_VERSION, generate_dataset

    root = Path(data_dir) / name
    wanted = {**spec.synthetic.model_dump(), "version": GENERATOR_VERSION}
    wanted["domain_shift_frames"] = wanted["domain_shift_frames"] or wanted["frames_per_video"]
    recorded = root / SYNTH_SETTINGS
    if recorded.exists() and all(json.loads(recorded.read_text()).get(k) == v for k, v in wanted.items()):
        return root
    # Missing, or made with other settings or another generator version: (re)generate. The
    # generator refuses to replace anything but a previous synthetic dataset, and swaps atomically.
    generate_dataset(root, progress=progress, **spec.synthetic.model_dump())
    return root
