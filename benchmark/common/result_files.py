"""The file names of a run's results: one experiment's folder (written by training, a baseline, a
reference or the runner; read by the report and the evidence) and the profile's results folder
around them. docs/RESULTS.md describes each."""

# An experiment's folder, <results>/<dataset>/<profile>/<experiment>/
MODEL = "model.keras"
OPTIMIZER = "optimizer.npz"    # the optimizer's state at the end: a run with a higher max_epochs goes on from it
HISTORY = "history.csv"        # per epoch: loss, learning rate, validation PCK@0.1, epoch time
CYCLES = "valid_cycles.csv"    # per learning-rate cycle end, decoder and Valid video: PCK@0.1 sums
PREDICTIONS = "predictions.csv"
METRICS = "metrics.json"       # benchmark.common.metrics_file
LABELLING = "labelling.csv"    # a labelling simulation: per round and Test video, PCK@0.1 sums
LABELLED = "labelled.csv"      # a labelling simulation: the frames labelled in each round, and why
EXECUTED = "notebook.ipynb"    # the executed notebook
KERNEL_LOG = "kernel.log"      # what the notebook's kernel wrote to stderr
STATUS = "status.json"         # while it trains (in staging): the last epoch's loss and validation PCK
COMPLETE = "COMPLETE.json"     # the runner's record, written last: id, group, content hash, wall time
FAILED = "FAILED.json"         # ... of a failure, with its error
SKIPPED = "SKIPPED.json"       # ... of an experiment not run, with the reason
OUTCOMES = (COMPLETE, FAILED, SKIPPED)  # a finished experiment has one of them

# The profile's folder, <results>/<dataset>/<profile>/
SEEDS = "_seeds.json"          # {row id: [seeds run --seeds added]}
SNAPSHOT = "_dataset"          # what the report needs of the dataset (benchmark.runner.snapshot); not an experiment
SNAPSHOT_RECORD = "dataset.json"  # in SNAPSHOT: root, fingerprint, file state, summary, audit, frames
