"""Privacy of infant datasets: audit, scrub and de-identify (see docs/PRIVACY.md).

Modules: :mod:`.faces` (is a face region mosaicked?), :mod:`.metadata` (EXIF, names and dates),
:mod:`.audit` (``python -m benchmark audit``), :mod:`.scrub` (``scrub``: a clean copy),
:mod:`.deidentify` (``deidentify``: mosaic unlabelled frames with a pose model), :mod:`.evaluate`
(error rates of the face test on synthetic frames). Their command lines are in :mod:`benchmark.commands`.
Nothing is imported here, so the light commands do not load Keras.
"""
