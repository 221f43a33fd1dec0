"""Authored content: strict schema (schema.py), loading with every error reported (loader.py),
what a version's checksum covers and the row it becomes (versions.py), and one-transaction import
into versioned rows (sync.py)."""
