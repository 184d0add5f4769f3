"""``trainctl.utils``: ``utils.data`` mirrors ``torch.utils.data``."""
