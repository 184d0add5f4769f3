"""nn.functional: pooling ops (to be written)."""

__all__ = []
