"""The node runtime: the composition root, node processes, background workers, the demo."""
