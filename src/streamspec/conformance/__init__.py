"""The conformance suite: checks any stream implementation against the spec, rule by rule."""
