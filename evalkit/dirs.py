"""Where evalkit keeps files on this machine."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_DIR_ENV = "EVALKIT_CACHE_DIR"
"""The variable that moves evalkit's cache (answers, batch state, converted model weights)."""


def cache_dir() -> Path:
    """``$EVALKIT_CACHE_DIR``, else the platform's user cache directory for evalkit."""
    configured = os.environ.get(CACHE_DIR_ENV)
    if configured:
        return Path(configured).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("evalkit", appauthor=False))
