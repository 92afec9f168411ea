"""OpenAI grader objects as scorers."""
