"""Flask-WTF forms, one module per area (the forms of views/<area>.py are in forms/<area>.py);
their validators come from forms/messages.py.
"""
