"""Trained models on new pictures and videos: loading, prediction, temporal filters, galleries."""
