"""Authored content: strict schema (schema.py), loading with every error reported (loader.py), and
one-transaction import into versioned rows (sync.py)."""
