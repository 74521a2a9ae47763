"""Helpers every layer may use: atomic output (staged writes) and the environment record."""
