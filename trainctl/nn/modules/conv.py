"""nn layers: conv (to be written)."""

__all__ = []
