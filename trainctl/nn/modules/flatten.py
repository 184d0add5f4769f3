"""nn layers: flatten (to be written)."""

__all__ = []
