"""nn.functional: normalization ops (to be written)."""

__all__ = []
