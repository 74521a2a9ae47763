"""The experiment runner: the manifest, provenance (what a result depends on), executors, runs."""
