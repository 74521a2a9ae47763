"""The labelling loop: choose the frames worth labelling, pre-annotate them with a model's
predictions for LabelMe, and add the corrected frames to a dataset (docs/LABELLING.md)."""
