"""Local models (``local:…``) served in this process: ``models`` (ids → weights on disk, loading),
``templates`` (chat templates), ``engine`` (the torch side: load, generate a batch), ``provider`` (queueing
and batching calls for the runner). Only the engine imports torch, and only when a model loads."""

from evalkit.providers.local.models import is_local
from evalkit.providers.local.provider import LocalProvider

__all__ = ["LocalProvider", "is_local"]
