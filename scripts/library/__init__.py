"""The shipped triage script library (YAML, illustrative content, not clinically approved)."""
