"""Charts drawn on the server as inline SVG: no JavaScript, no ``style`` attributes (strict CSP).

Each chart is an ``<svg role="img">`` labelled by its own ``<title>`` and ``<desc>`` (the desc
spells out every number), and the page shows the same numbers in a table beside it. Colours are
SVG presentation attributes with text contrast above 4.5:1 on white.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from .matrix import LearnerRow
from .matrix_facts import OfferingFrame

BAR = "#0b5a7a"
TRACK = "#e4eef2"
INK = "#1b1b1b"
MUTED = "#4a4a4a"


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    total: int
    note: str = ""


def _svg(chart_id: str, title: str, desc: str, width: int, height: int, body: list[str]) -> Markup:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" id="{escape(chart_id)}" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc">'
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-desc">{escape(desc)}</desc>'
    )
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704 - every value above is escaped


#: Drawing width in SVG units, about a phone's content width: at 360-414 px the 14-unit text renders
#: at 12.5-14 CSS px (the SVG scales to its box), and on a desktop card at about 17 px.
WIDTH = 330
FONT = 14


def column_chart(chart_id: str, title: str, bars: Sequence[Bar]) -> Markup:
    """Vertical bars (e.g. learners credited per session), each with its count on top."""
    width, height, top, bottom, left = WIDTH, 200, 22, 30, 4
    slot = (width - left * 2) / max(len(bars), 1)
    plot = height - top - bottom
    axis = height - bottom
    body = [f'<line x1="{left}" y1="{axis}" x2="{width - left}" y2="{axis}" stroke="{MUTED}"/>']
    for i, bar in enumerate(bars):
        x = left + i * slot + slot * 0.12
        w = slot * 0.76
        share = bar.value / bar.total if bar.total else 0
        h = round(plot * share, 1)
        y = height - bottom - h
        body.append(f'<rect x="{x:.1f}" y="{top}" width="{w:.1f}" height="{plot}" fill="{TRACK}"/>')
        body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h}" fill="{BAR}"/>')
        cx = x + w / 2
        body.append(
            f'<text x="{cx:.1f}" y="{max(y - 4, 15):.1f}" text-anchor="middle" font-size="{FONT}" '
            f'fill="{INK}">{bar.value}</text>'
        )
        body.append(
            f'<text x="{cx:.1f}" y="{height - bottom + 19}" text-anchor="middle" font-size="{FONT}" '
            f'fill="{INK}">{escape(bar.label)}</text>'
        )
    desc = "; ".join(f"{b.label}: {b.value} of {b.total}{(' ' + b.note) if b.note else ''}" for b in bars)
    return _svg(chart_id, title, desc + ".", width, height, body)


def funnel_chart(chart_id: str, title: str, bars: Sequence[Bar]) -> Markup:
    """Horizontal bars, widest first: how many learners reached each step (its label above its bar,
    so the labels need not share a narrow screen with the bars)."""
    width, row, pad, value_w = WIDTH, 46, 4, 44
    height = row * len(bars) + pad * 2
    plot = width - value_w
    body = []
    for i, bar in enumerate(bars):
        y = pad + i * row
        share = bar.value / bar.total if bar.total else 0
        w = round(plot * share, 1)
        body.append(f'<text x="0" y="{y + 15}" font-size="{FONT}" fill="{INK}">{escape(bar.label)}</text>')
        body.append(f'<rect x="0" y="{y + 21}" width="{plot}" height="18" fill="{TRACK}"/>')
        body.append(f'<rect x="0" y="{y + 21}" width="{w}" height="18" fill="{BAR}"/>')
        body.append(f'<text x="{plot + 6}" y="{y + 35}" font-size="{FONT}" fill="{INK}">{bar.value}</text>')
    desc = "; ".join(f"{b.label}: {b.value} of {b.total}" for b in bars)
    return _svg(chart_id, title, desc + ".", width, height, body)


# --- the numbers behind the charts -----------------------------------------------------------------
@dataclass(frozen=True)
class SessionCount:
    number: int
    title: str
    meeting_id: int | None
    credited: int
    absent: int
    no_record: int
    #: signed in without a sign-out: no credit yet, so part of ``absent`` (never of ``no_record``)
    awaiting_sign_out: int
    learners: int


def session_counts(frame: OfferingFrame, rows: Sequence[LearnerRow]) -> list[SessionCount]:
    """Per session, among active learners: credited, absent/excused, no record yet.

    Counted column by column over the learners' tallies (``list.count`` on each session's values),
    without building any learner's cells.
    """
    active = [r.tally for r in rows if r.active]
    n = len(frame.sessions)
    columns = {
        name: list(zip(*(getattr(t, name) for t in active), strict=True)) if active else [()] * n
        for name in ("status", "credited", "awaiting")
    }
    counts = []
    for i, session in enumerate(frame.sessions):
        window = frame.meetings.get(session.id)
        no_record = columns["status"][i].count(None)
        credited = len(active) - columns["credited"][i].count(0)  # credited minutes are >= 0
        counts.append(
            SessionCount(
                number=session.number,
                title=session.title,
                meeting_id=window.meeting_id if window else None,
                credited=credited,
                # credited minutes need a record: the others with a record were absent or not credited
                absent=len(active) - no_record - credited,
                no_record=no_record,
                awaiting_sign_out=columns["awaiting"][i].count(1),
                learners=len(active),
            )
        )
    return counts


def attendance_bars(counts: Sequence[SessionCount]) -> list[Bar]:
    """Learners credited per session. Those signed in without a sign-out are not credited (they are
    counted under "absent / excused / no credit"), so their note says so rather than adding to the bar."""
    bars = []
    for c in counts:
        open_ = c.awaiting_sign_out
        note = f"({open_} signed in without sign-out, not credited)" if open_ else ""
        bars.append(Bar(f"S{c.number}", c.credited, c.learners, note))
    return bars


def funnel_bars(rows: Sequence[LearnerRow], min_meetings: int) -> list[Bar]:
    active = [r for r in rows if r.active]
    total = len(active)
    return [
        Bar("Enrolled (active)", total, total),
        Bar(
            f"Attended {min_meetings}+ sessions",
            sum(1 for r in active if r.meetings_credited >= min_meetings),
            total,
        ),
        Bar("Independent work done", sum(1 for r in active if r.independent_done), total),
        Bar("Evaluation submitted", sum(1 for r in active if r.evaluation_submitted), total),
        Bar("Attendance attested", sum(1 for r in active if r.attestation == "current"), total),
        Bar("Certificate issued", sum(1 for r in active if r.valid_certificate is not None), total),
    ]
