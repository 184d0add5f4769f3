"""The work behind each CLI command (kept out of cli.py so ``--help`` imports nothing heavy)."""
