"""nn.functional: linear ops (to be written)."""

__all__ = []
