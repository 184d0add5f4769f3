"""nn layers: sparse (to be written)."""

__all__ = []
