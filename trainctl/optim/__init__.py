"""``trainctl.optim``: optimizers and ``lr_scheduler`` (to be written)."""
