"""(placeholder: routes are added by the attendance work)."""
