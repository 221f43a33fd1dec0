"""Coordinator reports: the completion matrix, its charts and exports, and a learner's data export.

Everything here reads; nothing writes. The matrix is computed for all learners of an offering in a
fixed number of SQL statements (``matrix.load_matrix``) and then aggregated in plain Python over
the preloaded rows with the same rules (``rules.credit``, ``rules.completion``) as the ledgers.
"""
