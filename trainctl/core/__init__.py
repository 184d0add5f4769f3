"""The bottom layer: array backend and devices, dtypes, random streams, errors, allocator."""
