"""The study's formulas: keypoint schema, heatmap codec, losses, metrics, temporal smoothness.

Pure functions (NumPy, or ``keras.ops`` where they run inside a model) that notebooks, the report
and the tests call alike. Nothing here reads files or knows about experiments.
"""
