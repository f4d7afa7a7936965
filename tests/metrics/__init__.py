"""Metric engine tests: hand-made frames in, hand-worked values out."""
