"""Zero-shot baselines: off-the-shelf pose models run as they are, scored like the trained rows.

A baseline is an experiment kind of the manifest (``kind: baseline``): no training, one run of
``notebooks/baseline_evaluate.ipynb`` in the baseline's own Jupyter kernel (its own virtual
environment, since its packages may conflict with the suite's backend), writing the same
``predictions.csv`` and ``metrics.json`` as a trained experiment. Modules: :mod:`.registry` (the
baselines, their kernels and requirements), :mod:`.config` (the manifest's settings),
:mod:`.mediapipe_pose` (MediaPipe's 33 landmarks mapped onto the study's 22 keypoints) and
:mod:`.evaluate` (run a baseline over the evaluated splits). docs/BASELINES.md says how to add one.
"""
