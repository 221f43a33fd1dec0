"""xAPI statements for a Learning Record Store (optional; off while IMH_XAPI_ENDPOINT is empty).

``statements`` builds them from plain facts, ``producers`` turns the operations' events into
queued rows (same transaction), ``queue`` holds and delivers them (``flask imh xapi run``),
``lrs`` talks HTTP to the LRS.
"""
