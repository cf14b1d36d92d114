"""Triage call scripts: format, linter, engine (illustrative clinical content, labelled so)."""
