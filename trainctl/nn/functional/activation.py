"""nn.functional: activation ops (to be written)."""

__all__ = []
