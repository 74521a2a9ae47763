"""Infant pose estimation benchmark: data, models, experiments and reports of the study."""

import os

# TensorFlow's C++ start-up chatter hides the suite's own output; set the variable to see it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
