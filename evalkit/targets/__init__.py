"""Targets: the models to evaluate, the endpoint each is served on, and how a conversation becomes a
prompt for the legacy completions endpoint."""

from evalkit.providers.prompts import to_prompt
from evalkit.providers.routing import endpoint_for
from evalkit.targets.spec import parse_model_flag, resolve_targets

__all__ = ["endpoint_for", "parse_model_flag", "resolve_targets", "to_prompt"]
