"""Coordinator reports: the completion matrix, its charts and exports, and a learner's data export.

Everything here reads; nothing writes. The matrix is computed for all learners of an offering in a
fixed number of SQL statements (``matrix_data.load_matrix``), tallied per learner and session
(``matrix_facts``) and aggregated in plain Python with the same rules (``rules.credit``,
``rules.completion``) as the ledgers. Exports stream the same rows in chunks of learners, across
offerings (``matrix_data.iter_offering_rows``).
"""
