"""Deliberately broken implementations and typing negatives that the project's tests feed to the
conformance suite and to mypy, to prove that each is rejected for the rule it breaks."""
