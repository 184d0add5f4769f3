"""nn layers: loss (to be written)."""

__all__ = []
