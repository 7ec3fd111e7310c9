"""Trying again: one loop for everything that waits for something held elsewhere (the run
catalog while another process writes it, say), with pauses that grow, and a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def retry(attempt: Callable[[], T], *, seconds: float,
          again: Callable[[Exception], bool], pause: float = 0.01,
          max_pause: float = 0.25) -> T:
    """Call ``attempt()`` until it returns. An exception for which ``again(exc)`` is true is
    tried again after a pause (``pause``, doubling up to ``max_pause``) until ``seconds`` have
    passed, and then raised; any other exception is raised at once."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return attempt()
        except Exception as exc:
            if not again(exc) or time.monotonic() > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, max_pause)
