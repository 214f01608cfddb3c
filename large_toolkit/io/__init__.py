"""Reading checkpoints safely and writing artifacts atomically."""
