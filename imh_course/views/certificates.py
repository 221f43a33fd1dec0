"""(placeholder: routes are added by the certificates work)."""
