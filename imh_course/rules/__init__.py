"""Pure domain rules of the course: CE credit, licences, completion and quiz grading.

Plain values in, plain values out. Nothing here imports Flask or SQLAlchemy, reads the current
user or touches the database, so every rule can be pinned by truth tables and property tests
without an app. Callers (``operations.py``, views, certificate snapshots) convert rows into these
dataclasses and must use the same functions everywhere, so a number shown on screen, in an export
and on a certificate can never disagree.
"""
