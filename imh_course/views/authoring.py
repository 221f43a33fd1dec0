"""(placeholder: routes are added by the authoring work)."""
