"""Use-cases: take the actor and plain data, load rows, call rules/, write, flush, audit.

Operations never commit: the view (or CLI command) commits once, so a change and its audit
event land together or not at all.
"""
