"""Loaded by the Ralph test server's interpreters only (PYTHONPATH set by tests/integration/ralph_lrs.py).

Ralph 5.1.0's fs LRS backend writes every batch of statements to the same file with the data
backend's default operation, ``create``, which refuses an existing file: only the first write
after start-up is stored and every later one answers 500. Appending is what an LRS on files
must do; this makes it the fs LRS backend's default. Nothing else of Ralph changes.
"""

try:
    from ralph.backends.data.base import BaseOperationType
    from ralph.backends.lrs.fs import FSLRSBackend
except ImportError:  # not Ralph's environment: nothing to adjust
    pass
else:
    FSLRSBackend.default_operation_type = BaseOperationType.APPEND
