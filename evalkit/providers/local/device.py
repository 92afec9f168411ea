"""Where ``local:`` models run: a GPU when there is one, else the CPU; ``EVALKIT_DEVICE`` overrides.

    EVALKIT_DEVICE   auto (default)   cuda when torch sees a CUDA device, else mps (Apple), else cpu
                     cpu | cuda | cuda:N | mps   that device; a GPU torch cannot see stops the run

The weights stay in fp32 on every device, so greedy answers do not depend on where they were computed more
than the hardware's arithmetic does. Needs torch (imported when asked).
"""

from __future__ import annotations

import os
import re

from evalkit.errors import ServiceError

__all__ = ["VARIABLE", "describe", "local_device"]

VARIABLE = "EVALKIT_DEVICE"
"""The environment variable that overrides the automatic choice."""

_FORMS = re.compile(r"auto|cpu|mps|cuda(:\d+)?")


def local_device() -> str:
    """The torch device for local models (``cpu``, ``cuda``, ``cuda:1``, ``mps``); ``ServiceError`` for a
    value of ``EVALKIT_DEVICE`` that is not one, or names a device torch cannot see."""
    import torch

    wanted = os.environ.get(VARIABLE, "auto").strip().lower() or "auto"
    if not _FORMS.fullmatch(wanted):
        raise ServiceError(f"{VARIABLE}={wanted!r} is not a device: use auto, cpu, cuda, cuda:N or mps")
    cuda, mps = torch.cuda.is_available(), torch.backends.mps.is_available()
    if wanted == "auto":
        return "cuda" if cuda else "mps" if mps else "cpu"
    if wanted.startswith("cuda") and not cuda:
        raise ServiceError(f"{VARIABLE}={wanted} but torch sees no CUDA device: unset it to use the CPU")
    if wanted.startswith("cuda:") and int(wanted[5:]) >= torch.cuda.device_count():
        raise ServiceError(f"{VARIABLE}={wanted} but torch sees {torch.cuda.device_count()} CUDA device(s)")
    if wanted == "mps" and not mps:
        raise ServiceError(f"{VARIABLE}=mps but torch sees no Apple GPU: unset it to use the CPU")
    return wanted


def describe(device: str) -> str:
    """``the CPU``, ``cuda:0``…: where a model is loaded, as a message says it."""
    return "the CPU" if device == "cpu" else device
