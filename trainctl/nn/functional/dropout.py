"""nn.functional: dropout ops (to be written)."""

__all__ = []
