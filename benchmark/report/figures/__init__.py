"""The study's figures: ``FIGURES[name](results, folder) -> Figure``, one registered function per figure.

:mod:`.registry` holds the registry, the :class:`~.registry.Figure` record and the style; the figures
are in one module per topic: :mod:`.comparisons` (accuracy and the claims' comparisons),
:mod:`.convergence` (training), :mod:`.images` (face-mosaicked frames with poses drawn on them),
:mod:`.labelling` (the labelling loop) and :mod:`.temporal` (trajectories, jitter, movement). Adding a
figure is one function decorated with ``@register_figure("name", "title", needs=...)`` in one of them; a new
topic module is imported here (``benchmark.report.figure_names`` reads every module of this folder).
"""

from benchmark.report.figures import comparisons, convergence, images, labelling, temporal  # noqa: F401  (register)
from benchmark.report.figures.registry import FIGURES, Figure

__all__ = ["FIGURES", "Figure"]
