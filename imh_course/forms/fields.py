"""Field helpers the forms of every area share: input trimming and the checkbox group."""

from __future__ import annotations

from wtforms import (
    SelectMultipleField,
)
from wtforms.widgets import CheckboxInput, ListWidget


def strip_text(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class MultiCheckboxField(SelectMultipleField):
    """A group of checkboxes (select all that apply)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()
