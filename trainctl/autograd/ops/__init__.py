"""The differentiable and non-differentiable ops, one module per family."""
