"""Datasets: image folders with validated label tables, and the procedural ground-truth demo set.

Submodules are imported lazily by callers (``large_toolkit.data.synthetic``,
``large_toolkit.data.folders``) so importing the package costs nothing.
"""
