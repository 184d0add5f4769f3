"""nn.functional: loss ops (to be written)."""

__all__ = []
