"""Prefloop: the human-feedback loop for language models, as a self-hosted service."""
