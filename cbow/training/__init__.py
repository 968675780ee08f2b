"""The training loop, its run folder, checkpoints and continued training."""
