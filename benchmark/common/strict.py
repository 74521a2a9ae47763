"""The one base of the suite's pydantic schemas: an unknown field is an error, not silently ignored,
so a typo in a manifest, claims file, configuration or results file is named instead of dropped."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """A pydantic model that forbids fields it does not declare (a subclass may add settings,
    e.g. ``frozen``, in its own ``model_config``)."""

    model_config = ConfigDict(extra="forbid")
