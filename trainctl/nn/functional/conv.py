"""nn.functional: conv ops (to be written)."""

__all__ = []
