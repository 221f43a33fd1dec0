"""bench/RESULTS.md is written in sections, each owned by one tool; a run replaces only its own.

``bench/run.py`` writes "SQLite (in-process)" or "PostgreSQL (in-process)", ``bench/load.py``
writes "Under make serve"; any other section (e.g. the hand-written analysis) is kept as it is.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

TITLE = "# Benchmark results"
INTRO = (
    "Targets are those of issue 9 (Performance at scale), measured on this machine. Each section "
    "is rewritten by the tool named in it; the others are kept. The machine is shared: the load "
    "average printed with each run says how busy it was (2 cores: above 2 means the benchmark "
    "competed for CPU and its times are inflated)."
)
ORDER = (
    "SQLite (in-process)",
    "PostgreSQL (in-process)",
    "Under make serve",
    "Analysis",
)


def load_average() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:  # pragma: no cover - not on Linux
        return "n/a"
    return f"{one:.1f} / {five:.1f} / {fifteen:.1f} (1 / 5 / 15 min)"


def read_sections(path: Path) -> dict[str, str]:
    """``{heading: body}`` of the ``## `` sections of ``path`` (empty if it does not exist)."""
    if not path.exists():
        return {}
    sections: dict[str, str] = {}
    current: str | None = None
    lines: list[str] = []
    for line in path.read_text().splitlines():
        if line.startswith("## "):
            if current is not None:
                sections[current] = "\n".join(lines).strip("\n")
            current, lines = line[3:].strip(), []
        elif current is not None:
            lines.append(line)
    if current is not None:
        sections[current] = "\n".join(lines).strip("\n")
    return sections


def replace_section(path: Path, heading: str, body: str) -> None:
    """Write ``body`` under ``## heading``, keeping every other section of ``path``."""
    sections = read_sections(path)
    sections[heading] = body.strip("\n")
    ordered = [h for h in ORDER if h in sections] + [h for h in sections if h not in ORDER]
    parts = [TITLE, "", INTRO, ""]
    for name in ordered:
        parts += [f"## {name}", "", sections[name], ""]
    path.write_text("\n".join(parts))


def table_medians(body: str) -> dict[str, float]:
    """``{row name: median ms}`` from a results table written by bench/run.py."""
    medians: dict[str, float] = {}
    for line in body.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and re.fullmatch(r"[0-9.]+", cells[1]):
            medians[cells[0]] = float(cells[1])
    return medians


def format_plain(results: list) -> str:
    """A quick table for iterating (``--only`` / ``--no-write``): median, p95, CPU, statements."""
    baseline = next((r for r in results if r.name == "baseline page" and r.timings_ms), None)
    cpu_base = baseline.cpu_median if baseline and baseline.cpu_ms else None
    lines = [
        f"{'what':<56} {'median':>9} {'p95':>9} {'CPU':>9} {'×base':>6} {'CPU×base':>8} {'SQL':>5} "
        f"{'peak MB':>8}"
    ]
    for r in results:
        if not r.timings_ms:
            lines.append(f"{r.name:<56} {'n/a':>9}  {r.note}")
            continue
        ratio = f"{r.median / baseline.median:.1f}" if baseline else ""
        cpu_ratio = f"{r.cpu_median / cpu_base:.1f}" if cpu_base and r.cpu_ms else ""
        peak = f"{r.peak_mb:.1f}" if r.peak_mb is not None else ""
        lines.append(
            f"{r.name:<56} {r.median:>9.1f} {r.p95:>9.1f} {r.cpu_median:>9.1f} {ratio:>6} {cpu_ratio:>8} "
            f"{r.statements:>5} {peak:>8}" + (f"  {r.note}" if r.note else "")
        )
    return "\n".join(lines)
