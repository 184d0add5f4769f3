"""nn.functional: sparse ops (to be written)."""

__all__ = []
