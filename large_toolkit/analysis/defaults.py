"""Torch-free defaults of the analysis tools, so CLI option declarations can show them without importing torch."""

DEFAULT_ROTATION_EPOCHS = 4
