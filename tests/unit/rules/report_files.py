"""Participant reports as the platforms export them, built in the tests (no real files)."""

from __future__ import annotations

ZOOM_HEADER = (
    "Name (original name),User Email,Join time,Leave time,Duration (minutes),Guest,"
    "Recording disclaimer response,In waiting room"
)


def zoom_csv(*rows: tuple[str, str, str, str, int | str, str], meeting_block: bool = True) -> bytes:
    """Zoom's "Export with meeting data": a meeting block, a blank line, then one row per join."""
    lines = []
    if meeting_block:
        lines += [
            "Meeting ID,Topic,Start time,End time,User Email,Duration (minutes),Participants",
            "812 3456 7890,Infant Mental Health — Session 3,12/01/2026 11:55:02 AM,"
            "12/01/2026 01:36:40 PM,instructor@example.org,102,5",
            "",
        ]
    lines.append(ZOOM_HEADER)
    for name, email, join, leave, minutes, guest in rows:
        quoted = f'"{name}"' if "," in name else name
        lines.append(f"{quoted},{email},{join},{leave},{minutes},{guest},OK,No")
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def teams_tsv_utf16(*rows: tuple[str, str, str, str, str, str]) -> bytes:
    """Teams' older export: UTF-16 with a byte-order mark, tab-separated, summary block first."""
    lines = [
        "Meeting Summary",
        "Total Number of Participants\t4",
        "Meeting Title\tInfant Mental Health — Session 3",
        "Meeting Start Time\t12/1/2026, 11:58:01 AM",
        "Meeting End Time\t12/1/2026, 1:33:12 PM",
        "",
        "Full Name\tJoin Time\tLeave Time\tDuration\tEmail\tRole\tParticipant ID (UPN)",
    ]
    for name, join, leave, duration, email, role in rows:
        lines.append(f"{name}\t{join}\t{leave}\t{duration}\t{email}\t{role}\t{email}")
    return "\r\n".join(lines).encode("utf-16")


def teams_csv(participants: list[tuple], activities: list[tuple]) -> bytes:
    """Teams' newer CSV: 1. Summary, 2. Participants (first join / last leave), 3. In-Meeting Activities."""
    lines = [
        "1. Summary",
        "Meeting title,Infant Mental Health — Session 3",
        "Attended participants,3",
        'Start time,"12/1/26, 11:58:01 AM"',
        'End time,"12/1/26, 1:33:12 PM"',
        "",
        "2. Participants",
        "Name,First Join,Last Leave,In-Meeting Duration,Email,Participant ID (UPN),Role",
    ]
    for name, first, last, duration, email, role in participants:
        lines.append(f'{name},"{first}","{last}",{duration},{email},{email},{role}')
    lines += ["", "3. In-Meeting Activities", "Name,Join Time,Leave Time,Duration,Email,Role"]
    for name, join, leave, duration, email, role in activities:
        lines.append(f'{name},"{join}","{leave}",{duration},{email},{role}')
    return ("\ufeff" + "\n".join(lines) + "\n").encode("utf-8")
