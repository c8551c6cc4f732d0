"""Experiment capture: runs, metrics, provenance, figures."""
