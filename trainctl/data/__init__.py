"""``trainctl.data``: datasets, samplers, DataLoader, transforms (to be written)."""
