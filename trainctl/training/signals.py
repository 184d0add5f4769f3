"""Ctrl-C and SIGTERM during training: the first finishes the current step and stops cleanly
(the run saves its ``last`` checkpoint), the second stops at once.

Example:
    >>> with StopOnSignal(trainer, echo=print):  # doctest: +SKIP
    ...     trainer.fit()
"""

from __future__ import annotations

import signal
import threading


class StopOnSignal:
    """While active, SIGINT/SIGTERM ask ``trainer`` to stop after its current step; a second
    signal raises KeyboardInterrupt. Outside the main thread (where Python cannot install signal
    handlers) it does nothing, and the default Ctrl-C behaviour stays."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, trainer, echo=None):
        self.trainer = trainer
        self.echo = echo or (lambda message, err=False: None)
        self.previous = {}

    def handle(self, signum, frame):
        if self.trainer.interrupt_requested:
            raise KeyboardInterrupt
        self.trainer.interrupt_requested = True
        self.echo("\nstopping after this step and saving a checkpoint "
                  "(press Ctrl-C again to stop at once)", err=True)

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in self.SIGNALS:
                self.previous[sig] = signal.signal(sig, self.handle)
        return self

    def __exit__(self, *exc):
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)
        self.previous.clear()
        return False
