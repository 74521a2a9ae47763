"""Synthetic infant video dataset: the suite's embedded default dataset.

The reference recordings are private, so the suite generates a stand-in with the same layout
(see ``docs/CONVENTIONS.md``): top-down videos of a 0-6 month infant on its back or side on a
mat, moving smoothly (writhing- and fidgety-like joint motion at 0.2-3 Hz), rendered with shaded
body parts, face, hair, clothes, textured mats, toys, lighting, lens distortion, blur, noise and
JPEG loss; labels carry simulated annotator noise (the exact keypoints are written to ``truth/``). The
training splits are domain-randomised; each DomainShift video holds out one named family of
factors (:data:`.style.SHIFTS`: mat, light, camera, appearance, occluder, blur_noise), recorded
in ``synth.json`` (``docs/SYNTHETIC.md``).

Modules: :mod:`.body` (proportions, skeleton), :mod:`.motion` (joint-angle trajectories),
:mod:`.style` (appearance per video), :mod:`.camera`, :mod:`.textures`, :mod:`.scene` (static
background), :mod:`.parts` (drawn body parts), :mod:`.render` (one frame), :mod:`.annotator`
(label noise), :mod:`.video` (one video), :mod:`.generate` (the dataset). Its command line is
:mod:`benchmark.commands.synth`; contact sheets are :mod:`benchmark.data.contact_sheet`.
"""

from benchmark.data.synth.generate import generate_dataset

__all__ = ["generate_dataset"]
