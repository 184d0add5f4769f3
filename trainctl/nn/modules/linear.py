"""nn layers: linear (to be written)."""

__all__ = []
