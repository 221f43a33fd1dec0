"""The routes of blueprint ``imh``, one module per audience/task.

The blueprint is in :mod:`.blueprint`; :mod:`.routes` imports every route module (the wiring calls
its ``create_blueprint``). This package imports nothing, so a route module's import of ``bp`` or a
helper never pulls in the other route modules.
"""
