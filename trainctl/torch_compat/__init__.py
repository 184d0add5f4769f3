"""PyTorch compatibility: cuda, accelerator, backends, out=, legacy constructors, refusals."""
