"""One experiment: its configuration, the input pipeline, training, and decoding predictions."""
