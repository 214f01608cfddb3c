"""The ``large-tk`` command line.  Importing this package does not import torch."""
