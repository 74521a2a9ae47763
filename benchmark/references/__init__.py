"""Chance-level references: rows that learn nothing from the pictures, scored like any experiment,
the floor a trained row must clear before the claims count it (``kind: reference`` in the manifest)."""
