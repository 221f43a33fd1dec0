"""Validation messages in one style, in the reader's own words (pure: no Flask, no WTForms).

WTForms' defaults ("This field is required.", "Field cannot be longer than 200 characters.") do not
say which field or what to do, and hand-written messages drifted from form to form ("Please fill
this in.", "Give a reason.", "Please choose a rating."). Every validation message is made here:

- a required field says what to do and names the field: "Enter your email address.",
  "Choose a mark.", "Tick the box to confirm.";
- a limit says the limit: "Keep the reason to 500 characters or fewer.",
  "Enter a pass mark from 1 to 100.";
- one sentence (or two), a capital first and a full stop last.

Each message is a :class:`FormMessage` (a ``str``), so a test can walk every form and check that no
validator carries a message from anywhere else. ``forms/messages.py`` wraps them in WTForms validators.
"""

from __future__ import annotations


class FormMessage(str):
    """A validation message made by this module (a plain string everywhere else)."""

    __slots__ = ()


def sentence(text: str) -> FormMessage:
    """Any other message, checked for the house style: capital first, full stop (or ?/!) last."""
    text = " ".join(text.split())
    if not text or not text[0].isupper() or text[-1] not in ".?!":
        raise ValueError(f"a form message is one or more sentences: {text!r}")
    return FormMessage(text)


def enter(what: str) -> FormMessage:
    """Typed fields: ``enter("your email address")`` → "Enter your email address."."""
    return sentence(f"Enter {what}.")


def choose(what: str) -> FormMessage:
    """Choices (radio buttons, lists, files): ``choose("a mark")`` → "Choose a mark."."""
    return sentence(f"Choose {what}.")


def tick(what: str) -> FormMessage:
    """A box that must be ticked: ``tick("confirm")`` → "Tick the box to confirm."."""
    return sentence(f"Tick the box to {what}.")


def too_long(what: str, max_chars: int) -> FormMessage:
    return sentence(f"Keep {what} to {max_chars:,} characters or fewer.")


def too_short(min_chars: int) -> FormMessage:
    return sentence(f"Use at least {min_chars:,} characters.")


def out_of_range(what: str, low: int, high: int) -> FormMessage:
    """``out_of_range("a pass mark", 1, 100)`` → "Enter a pass mark from 1 to 100."."""
    return sentence(f"Enter {what} from {low} to {high}.")


def whole_number(what: str, example: int) -> FormMessage:
    """For an IntegerField's ``invalid_value_message`` (WTForms says "Not a valid integer value.")."""
    return sentence(f"Enter {what} as a whole number, e.g. {example}.")


#: a hidden field only a changed or stale page can leave empty or wrong
RELOAD = sentence("Reload the page and try again.")
