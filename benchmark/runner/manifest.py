"""The experiment manifest (``experiments/manifest.yaml``): validation and resolution.

Errors name the file, the line, the field and the allowed values. Resolution turns the manifest
and a profile into a list of :class:`Experiment` objects, each with a readable id and a fully
resolved :class:`~benchmark.training.config.TrainConfig` (defaults < profile < group base < grid/row values).

Seeds: a setting trained with several seeds is one experiment per seed, each cached on its own.
The seeds of an experiment come from, first to last: ``--seeds`` (the ``seeds`` argument of
:meth:`LoadedManifest.experiments`), the profile's ``seeds`` when it maps experiment-id patterns
(globs, as ``--only``) to lists, the group's ``seeds``, the profile's ``seeds`` when it is a list;
with none of these the experiment trains once with its configured ``seed``. Seed 0 keeps the plain
id, so results of an experiment trained before it had seeds stay cached; seed ``s`` adds ``-s<s>``.

Kinds: a group is ``kind: train`` (the default: models trained by ``notebooks/train_evaluate.ipynb``),
``kind: baseline`` (zero-shot models, :mod:`benchmark.baselines`, run once each by
``notebooks/baseline_evaluate.ipynb`` in their own kernel), ``kind: reference`` (the chance level,
:mod:`benchmark.references`, by ``notebooks/reference_evaluate.ipynb``) or ``kind: labelling`` (a
simulated labelling loop, :mod:`benchmark.labelling.simulate`, by ``notebooks/labelling_evaluate.ipynb``).
A baseline's or reference's settings are those of its config class (:data:`CONFIGS`); of the defaults
and the profile's ``train`` settings it takes the evaluation ones (``INHERITED``), and it has no seeds.
A labelling experiment takes every training setting, as a trained one does, and has no seeds.

Which groups a profile runs: every group, unless the group's ``profiles`` leaves the profile out or
the profile's ``groups`` leaves the group out. A profile's ``defer`` maps experiment-id patterns to why
it does not run them (what they would cost in its budget): such an experiment is planned but not run,
and its claims read "not run" with that reason.
"""

from __future__ import annotations

import fnmatch
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from benchmark.baselines.config import BaselineConfig
from benchmark.common.errors import InputError
from benchmark.common.seeds import with_seed
from benchmark.common.strict import Strict
from benchmark.common.yaml_file import YamlFile
from benchmark.labelling.config import LabellingConfig
from benchmark.references.config import ReferenceConfig
from benchmark.training.config import TrainConfig

CONFIGS = {"train": TrainConfig, "baseline": BaselineConfig, "reference": ReferenceConfig,  # each kind's settings
           "labelling": LabellingConfig}
REPO = Path(__file__).resolve().parents[2]
MANIFEST = REPO / "experiments" / "manifest.yaml"  # the default manifest


class ManifestError(InputError):
    """A manifest problem, with file and line."""


class SyntheticSpec(Strict):
    videos: int = Field(24, ge=3)
    frames_per_video: int = Field(40, ge=1)
    size: int = Field(256, ge=64)
    seed: int = 0
    domain_shift_videos: int = Field(4, ge=0)
    domain_shift_frames: int | None = Field(None, ge=1)  # per DomainShift video (default frames_per_video)
    frame_step: int = Field(5, ge=1)


class DatasetSpec(Strict):
    synthetic: SyntheticSpec | None = None
    path: str | None = None
    env: str | None = None  # the environment variable holding the root (or give --data)

    @model_validator(mode="after")
    def _one_source(self):
        if sum(v is not None for v in (self.synthetic, self.path, self.env)) != 1:
            raise ValueError("give exactly one of 'synthetic' (generator settings), 'path' (a dataset root) "
                             "or 'env' (an environment variable holding the root)")
        return self


Seeds = list[Annotated[int, Field(ge=0)]]


def _unique(seeds):
    if seeds is not None and (not seeds or len(set(seeds)) != len(seeds)):
        raise ValueError(f"seeds must be a non-empty list without repeats, got {seeds}")
    return seeds


class Profile(Strict):
    dataset: str
    train: dict[str, Any] = {}
    seeds: Seeds | dict[str, Seeds] | None = None  # every experiment, or per experiment-id pattern
    groups: list[str] | None = Field(None, min_length=1)  # the groups this profile runs (default: every group)
    defer: dict[str, str] = {}  # experiment-id pattern -> why this profile does not run them

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, value):
        for seeds in value.values() if isinstance(value, dict) else [value]:
            _unique(seeds)
        return value


class Group(Strict):
    group: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: Literal["train", "baseline", "reference", "labelling"] = "train"
    base: dict[str, Any] = {}
    grid: dict[str, list[Any]] | None = None
    rows: list[dict[str, Any]] | None = None
    seeds: Seeds | None = None  # in every profile
    profiles: list[str] | None = None  # the profiles that run this group (default: every profile)

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, value):
        return _unique(value)

    @model_validator(mode="after")
    def _grid_or_rows(self):
        if (self.grid is None) == (self.rows is None):
            raise ValueError("give exactly one of 'grid' (a cross product) or 'rows' (a list of settings)")
        return self

    def settings(self) -> list[dict[str, Any]]:
        if self.grid is not None:
            keys = list(self.grid)
            return [dict(zip(keys, values)) for values in itertools.product(*self.grid.values())]
        return list(self.rows)


class Manifest(Strict):
    datasets: dict[str, DatasetSpec]
    profiles: dict[str, Profile]
    defaults: dict[str, Any] = {}
    experiments: list[Group]
    tables: list[str] = []   # names in the report's table registry (checked by the report)
    figures: list[str] = []  # names in the report's figure registry
    # The study's recommended setting, a selector (group and settings): the report's sample figures,
    # trajectories and smoothness tables show it, and its loss picks the generalisation and movement rows.
    showcase: dict[str, str] = {}


@dataclass(frozen=True)
class Experiment:
    id: str
    group: str
    config: TrainConfig | BaselineConfig | ReferenceConfig | LabellingConfig
    deferred: str | None = None  # why its profile does not run it (the profile's ``defer``)

    @property
    def kind(self) -> str:
        return next(kind for kind, config in CONFIGS.items() if type(self.config) is config)


class LoadedManifest:
    """A validated manifest with the line numbers needed for later error messages."""

    def __init__(self, path: Path):
        self.file = YamlFile.load(path, ManifestError, "manifest")
        self.path = self.file.path
        if not isinstance(self.file.data, dict):
            raise ManifestError(f"{self.path}: expected a mapping with datasets, profiles and experiments")
        try:
            self.data = Manifest.model_validate(self.file.data)
        except ValidationError as e:
            raise ManifestError(self.file.invalid(e)) from None
        self._check_names()

    def error(self, loc: tuple, message: str) -> ManifestError:
        return ManifestError(self.file.message(loc, message))

    def _check_names(self) -> None:
        for name, profile in self.data.profiles.items():
            if profile.dataset not in self.data.datasets:
                raise self.error(("profiles", name, "dataset"), f"unknown dataset {profile.dataset!r} "
                                 f"(defined: {', '.join(self.data.datasets)})")
            self._check_settings(profile.train, ("profiles", name, "train"), context=self.data.defaults)
            groups = [group.group for group in self.data.experiments]
            for j, group in enumerate(profile.groups or []):
                if group not in groups:
                    raise self.error(("profiles", name, "groups", j), f"unknown group {group!r} "
                                     f"(defined: {', '.join(dict.fromkeys(groups))})")
        self._check_settings(self.data.defaults, ("defaults",))
        for key in self.data.showcase:
            if key != "group" and key not in TrainConfig.model_fields:
                raise self.error(("showcase", key), f"unknown setting {key!r} (allowed: group, "
                                 f"{', '.join(TrainConfig.model_fields)})")
        for i, group in enumerate(self.data.experiments):
            config = CONFIGS[group.kind]
            for j, name in enumerate(group.profiles or []):
                if name not in self.data.profiles:
                    raise self.error(("experiments", i, "profiles", j), f"unknown profile {name!r} "
                                     f"(defined: {', '.join(self.data.profiles)})")
            self._check_settings(group.base, ("experiments", i, "base"), config)
            for key, values in (group.grid or {}).items():
                for j, value in enumerate(values):
                    self._check_setting(key, value, ("experiments", i, "grid", key, j), config, group.base)
            for j, row in enumerate(group.rows or []):
                self._check_settings(row, ("experiments", i, "rows", j), config, group.base)

    def _check_settings(self, settings: dict, loc: tuple, config: type = TrainConfig, context: dict | None = None) -> None:
        for key, value in settings.items():
            self._check_setting(key, value, loc + (key,), config, {**(context or {}), **settings})

    def _check_setting(self, key: str, value: Any, loc: tuple, config: type = TrainConfig,
                       context: dict | None = None) -> None:
        """Validate one setting among the others it is given with (``context``: its mapping, over the
        defaults or the group's base), so the error points at its line and a rule that ties settings
        together (epochs and cycles) sees them together."""
        if key not in config.model_fields:
            raise self.error(loc, f"unknown setting {key!r} (allowed: {', '.join(config.model_fields)})")
        try:
            config.model_validate({k: v for k, v in (context or {}).items() if k in config.model_fields} | {key: value})
        except ValidationError as e:
            mine = [err for err in e.errors() if not err["loc"] or err["loc"][0] == key]
            if mine:
                raise self.error(loc, f"invalid value {value!r}: {mine[0]['msg'].removeprefix('Value error, ')}") from None

    def check_report(self, tables, figures) -> None:
        """Check the ``tables`` and ``figures`` lists against the report's registries (passed in by
        the caller: the report is a later stage than the runner)."""
        for kind, known in (("tables", tables), ("figures", figures)):
            for i, name in enumerate(getattr(self.data, kind)):
                if name not in known:
                    raise self.error((kind, i), f"unknown {kind[:-1]} {name!r} (allowed: {', '.join(known)})")

    def profile(self, name: str) -> Profile:
        if name not in self.data.profiles:
            raise ManifestError(f"{self.path}: unknown profile {name!r} (defined: {', '.join(self.data.profiles)})")
        return self.data.profiles[name]

    def experiments(self, profile: str, seeds: list[int] | None = None) -> list[Experiment]:
        """Every experiment of the manifest, resolved for ``profile``: one per seed (module docstring;
        ``seeds`` given here applies to every experiment)."""
        base = {**self.data.defaults, **self.profile(profile).train}
        groups = self.profile(profile).groups
        if seeds is not None and (len(set(seeds)) != len(seeds) or min(seeds, default=-1) < 0):
            raise ManifestError(f"seeds {seeds}: expected non-negative seeds without repeats")
        experiments, seen = [], {}
        for i, group in enumerate(self.data.experiments):
            if (group.profiles is not None and profile not in group.profiles
                    or groups is not None and group.group not in groups):
                continue
            varying = list(group.grid or dict.fromkeys(k for row in group.rows for k in row))
            config_class = CONFIGS[group.kind]
            inherited = {k: v for k, v in base.items() if k in getattr(config_class, "INHERITED", base)}
            for j, setting in enumerate(group.settings()):
                name = "-".join([group.group] + [str(setting[k]) for k in varying if k in setting])
                chosen = (seeds or self._seeds(profile, group, name)) if group.kind == "train" else None
                for seed in chosen or [None]:
                    values = {**inherited, **group.base, **setting, **({} if seed is None else {"seed": seed})}
                    try:
                        config = config_class.model_validate(values)
                    except ValidationError as e:
                        message = e.errors()[0]["msg"].removeprefix("Value error, ")
                        raise self.error(("experiments", i), f"{name} in profile {profile!r}: {message}") from None
                    exp_id = with_seed(name, seed)
                    if exp_id in seen:
                        raise self.error(("experiments", i), f"experiment id {exp_id!r} appears twice")
                    seen[exp_id] = True
                    experiments.append(Experiment(exp_id, group.group, config, self._deferred(profile, exp_id)))
        for pattern in self.profile(profile).defer:
            if not any(fnmatch.fnmatch(e.id, pattern) for e in experiments):
                raise self.error(("profiles", profile, "defer", pattern), "matches no experiment of this profile")
        return experiments

    def _deferred(self, profile: str, exp_id: str) -> str | None:
        """Why ``profile`` does not run the experiment ``exp_id`` (None: it runs)."""
        return next((why for pattern, why in self.profile(profile).defer.items()
                     if fnmatch.fnmatch(exp_id, pattern)), None)

    def _seeds(self, profile: str, group: Group, name: str) -> list[int] | None:
        """The manifest's seeds for the experiment ``name`` (None: train once, as configured)."""
        chosen = self.profile(profile).seeds
        if isinstance(chosen, dict):
            return next((s for pattern, s in chosen.items() if fnmatch.fnmatch(name, pattern)), group.seeds)
        return group.seeds if group.seeds is not None else chosen


def select(experiments: list[Experiment], only: str | None) -> list[Experiment]:
    """``--only``: a glob on experiment ids, or a substring when it has no wildcard."""
    if not only:
        return experiments
    if any(c in only for c in "*?["):
        return [e for e in experiments if fnmatch.fnmatch(e.id, only)]
    return [e for e in experiments if only in e.id]
