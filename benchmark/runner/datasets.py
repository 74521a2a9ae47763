"""Which dataset a run uses, where its root is, and the name its results and reports are kept under.

A dataset the manifest defines (generator settings or a fixed ``path``) is named by its manifest
entry (``synthetic``, ``synthetic-smoke``); one whose root comes from outside (``--data PATH``, or an
``env`` entry such as ``real``, whose environment variable holds the root) by its folder name and the
first 8 hex digits of its fingerprint (``sample_data-1a2b3c4d``, :func:`root_name`), so two different
folders, or a folder whose files changed, never share results. The run plan
(:mod:`benchmark.runner.plan`) puts these names into results paths.
"""

from __future__ import annotations

import os
from pathlib import Path

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


def defined_root(manifest: LoadedManifest, name: str, data_dir: Path = Path("data"), progress: bool = True) -> Path:
    """The root of the manifest dataset ``name`` when none is given from outside: its fixed ``path``,
    or its synthetic dataset in ``data_dir``, (re)generated unless current (the generator replaces
    only a previous synthetic dataset, and atomically)."""
    spec = manifest.data.datasets[name]
    if spec.path is not None:
        return Path(spec.path)
    from benchmark.data.synth.generate import ensure_dataset

    return ensure_dataset(Path(data_dir) / name, progress, **spec.synthetic.model_dump())


def resolve_dataset(manifest: LoadedManifest, profile: str, data: Path | None = None,
                    data_dir: Path = Path("data"), progress: bool = True, dataset: str | None = None) -> Path:
    """The dataset root of a run: ``data`` if given, else that of the manifest dataset ``dataset``
    (default: the profile's), generated into ``data_dir`` if synthetic."""
    name = entry(manifest, profile, dataset)
    return given_root(manifest, name, data) or defined_root(manifest, name, data_dir, progress)
