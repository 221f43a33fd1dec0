"""The module's emails, built with the standard library's :mod:`email.message`.

Each message is a plain-text part with an HTML alternative made from the same blocks, so the two
always say the same thing. Every name and link is escaped in the HTML by construction (the blocks
are text, never markup); there are no images, no tracking pixels and no rewritten links: a link
in the mail is the page's own address.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from markupsafe import escape


@dataclass(frozen=True)
class Para:
    """A paragraph of plain text."""

    text: str


@dataclass(frozen=True)
class Link:
    """A link: its label, then the address written out in full (the text part shows both)."""

    label: str
    url: str


Block = Para | Link


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    maintype: str
    subtype: str


def _text(blocks: list[Block]) -> str:
    parts = [b.text if isinstance(b, Para) else f"{b.label}:\n{b.url}" for b in blocks]
    return "\n\n".join(parts) + "\n"


def _html(subject: str, blocks: list[Block]) -> str:
    body = "\n".join(
        f"<p>{escape(b.text)}</p>"
        if isinstance(b, Para)
        else f'<p><a href="{escape(b.url)}">{escape(b.label)}</a></p>'
        for b in blocks
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(subject)}</title></head>\n<body>\n{body}\n</body></html>\n"
    )


def _domain(sender: str) -> str:
    address = parseaddr(sender)[1]
    return address.rpartition("@")[2] or "localhost"


def compose(
    *,
    sender: str,
    to_name: str,
    to_address: str,
    subject: str,
    blocks: list[Block],
    attachments: tuple[Attachment, ...] = (),
) -> EmailMessage:
    """One message to one person: text and HTML alternatives, then any attachments."""
    message = EmailMessage()
    message["From"] = sender
    local, _, domain = to_address.rpartition("@")
    message["To"] = Address(display_name=to_name, username=local, domain=domain)
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=_domain(sender))
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
    message.set_content(_text(blocks))
    message.add_alternative(_html(subject, blocks), subtype="html")
    for item in attachments:
        if item.maintype == "text":  # declared UTF-8: as bytes, a reader would assume ASCII
            message.add_attachment(
                item.content.decode("utf-8"), subtype=item.subtype, charset="utf-8", filename=item.filename
            )
        else:
            message.add_attachment(
                item.content, maintype=item.maintype, subtype=item.subtype, filename=item.filename
            )
    return message


@dataclass(frozen=True)
class Site:
    """Who the mail comes from: the sender address and the provider named in the text."""

    sender: str
    provider: str
    course: str


def _closing(site: Site) -> Para:
    return Para(f"{site.course}\n{site.provider}")


def password_reset(site: Site, *, name: str, address: str, link: str, valid_for: str) -> EmailMessage:
    """The link someone asked for on "Forgot your password?"."""
    return compose(
        sender=site.sender,
        to_name=name,
        to_address=address,
        subject="Set a new password for your course account",
        blocks=[
            Para(f"Dear {name},"),
            Para(
                f"Someone (we hope you) asked to set a new password for {address}. "
                f"The link works once, for {valid_for}."
            ),
            Link("Set a new password", link),
            Para("If you did not ask, ignore this message: your password stays as it is."),
            _closing(site),
        ],
    )


def invitation(
    site: Site, *, name: str, address: str, link: str, offering: str | None, valid_for: str
) -> EmailMessage:
    """A new learner's invitation: choose a password, then sign in."""
    enrolled = f" You are enrolled in {offering}." if offering else ""
    return compose(
        sender=site.sender,
        to_name=name,
        to_address=address,
        subject=f"Your invitation to {site.course}",
        blocks=[
            Para(f"Dear {name},"),
            Para(f"{site.provider} has created a course account for you ({address}).{enrolled}"),
            Para(f"Choose your password with this link; it works once, for {valid_for}."),
            Link("Choose your password", link),
            _closing(site),
        ],
    )


def certificate_issued(
    site: Site,
    *,
    name: str,
    address: str,
    offering: str,
    download: str,
    verify: str,
    ce_hours: str | None,
    face_to_face_hours: str,
) -> EmailMessage:
    """The learner's certificate is ready: what it certifies, where to download it, the public check.

    The wording follows the certificate itself: CE contact hours only on a CE certificate, so a
    learner whose license the approvals do not cover is never told they earned CE.
    """
    if ce_hours is not None:
        what = (
            f"Your certificate of continuing education for {offering} has been issued. "
            f"It certifies {ce_hours} CE contact hours."
        )
    else:
        what = (
            f"Your certificate of completion for {offering} has been issued. It lists "
            f"{face_to_face_hours} face-to-face clock hours (not CE credit)."
        )
    return compose(
        sender=site.sender,
        to_name=name,
        to_address=address,
        subject=f"Your certificate for {site.course} is ready",
        blocks=[
            Para(f"Dear {name},"),
            Para(what),
            Link("Download your certificate (sign in first)", download),
            Para("Anyone you give this address to, such as a licensing board, can check the certificate:"),
            Link("Verify the certificate", verify),
            _closing(site),
        ],
    )


def meeting_reminder(
    site: Site,
    *,
    name: str,
    address: str,
    offering: str,
    session: str,
    when: str,
    where: str | None,
    ics: bytes,
    filename: str,
    profile: str,
    certifiable: bool,
) -> EmailMessage:
    """Tomorrow's meeting, with the meeting as an .ics attachment; says how to turn these off.

    ``certifiable`` is the learner's CE standing (``rules.ce_standing``): only a learner whose hours
    will be certified as CE is told of CE."""
    blocks: list[Block] = [
        Para(f"Dear {name},"),
        Para(f"A reminder: {offering} meets tomorrow, {when}, for {session}."),
    ]
    if where:
        blocks.append(Para(f"Where: {where}"))
    blocks += [
        Para(
            "Remember to sign in when you arrive and to sign out when you leave: "
            + (
                "face-to-face time counts toward CE only when both are recorded."
                if certifiable
                else "your face-to-face hours are credited only when both are recorded."
            )
        ),
        Para("The meeting is attached as a calendar file. You can turn these reminders off in your profile:"),
        Link("Your profile", profile),
        _closing(site),
    ]
    return compose(
        sender=site.sender,
        to_name=name,
        to_address=address,
        subject=f"Reminder: {session} meets tomorrow",
        blocks=blocks,
        attachments=(Attachment(filename, ics, "text", "calendar"),),
    )


def no_sign_out(
    site: Site,
    *,
    name: str,
    address: str,
    offering: str,
    session: str,
    when: str,
    link: str,
    certifiable: bool,
) -> EmailMessage:
    """A sign-in without a sign-out credits nothing: tell the learner so they can ask for a correction.

    ``certifiable`` as for :func:`meeting_reminder`: CE is named only to whom it will be certified."""
    earns = "no CE contact hours" if certifiable else "no face-to-face hours"
    return compose(
        sender=site.sender,
        to_name=name,
        to_address=address,
        subject=f"No sign-out recorded for {session}",
        blocks=[
            Para(f"Dear {name},"),
            Para(
                f"You signed in to {session} of {offering} ({when}), but no sign-out was recorded. "
                f"Until your departure time is recorded, this meeting earns {earns}."
            ),
            Para(
                "If you attended, reply to your course coordinator with the time you left and ask "
                "them to correct your attendance record. Your attendance is shown here:"
            ),
            Link("Your attendance", link),
            _closing(site),
        ],
    )
