"""Datasets on disk: the LabelMe layout, reading and writing it, images, geometry, the face mosaic,
drawing, video frames, and the synthetic dataset generator (:mod:`benchmark.data.synth`)."""
