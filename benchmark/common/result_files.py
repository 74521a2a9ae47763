"""The files of one experiment's results folder: written by training (or a baseline, or a reference),
read by the report and the evidence. docs/RESULTS.md describes each."""

MODEL = "model.keras"
OPTIMIZER = "optimizer.npz"    # the optimizer's state at the end: a run with a higher max_epochs goes on from it
HISTORY = "history.csv"        # per epoch: loss, learning rate, validation PCK@0.1, epoch time
CYCLES = "valid_cycles.csv"    # per learning-rate cycle end, decoder and Valid video: PCK@0.1 sums
PREDICTIONS = "predictions.csv"
METRICS = "metrics.json"       # benchmark.common.metrics_file
LABELLING = "labelling.csv"    # a labelling simulation: per round and Test video, PCK@0.1 sums
LABELLED = "labelled.csv"      # a labelling simulation: the frames labelled in each round, and why
