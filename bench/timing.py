"""How bench/run.py times a row, shared with the rows themselves (bench/scenarios.py): a
:class:`Result`, the SQL :class:`StatementCounter`, :func:`measure` and the :func:`ok` status check.
"""

from __future__ import annotations

import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Result:
    name: str
    timings_ms: list[float]
    statements: int
    peak_mb: float | None = None
    note: str = ""
    cpu_ms: list[float] = field(default_factory=list)

    @property
    def cpu_median(self) -> float:
        """Median CPU time of this thread per run: what the code costs, however busy the machine
        (wall time also includes waiting for a core; CPU time excludes PostgreSQL's own work)."""
        return statistics.median(self.cpu_ms) if self.cpu_ms else float("nan")

    @property
    def median(self) -> float:
        return statistics.median(self.timings_ms) if self.timings_ms else float("nan")

    @property
    def p95(self) -> float:
        if not self.timings_ms:
            return float("nan")
        ordered = sorted(self.timings_ms)
        return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


class StatementCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_args: object) -> None:
        self.count += 1


def measure(
    name: str, fn: Callable[[int], object], runs: int, counter: StatementCounter, *, memory: bool = False
) -> Result:
    """Median of ``runs`` timed calls after one warm-up. With ``memory``, one more call runs under
    tracemalloc for the peak of memory allocated during it (tracemalloc slows Python down several
    times, so that call is not timed)."""
    fn(-1)  # warm-up: caches, template compilation
    timings, cpu, statements, peak = [], [], [], None
    for i in range(runs):
        gc.collect()
        counter.count = 0
        started, cpu_started = time.perf_counter(), time.thread_time()
        fn(i)
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.thread_time() - cpu_started) * 1000)
        statements.append(counter.count)
    if memory:
        gc.collect()
        tracemalloc.start()
        fn(runs)
        _current, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        peak = top / 1_048_576
    return Result(name, timings, max(statements), peak, cpu_ms=cpu)


def ok(response, expected: tuple[int, ...] = (200,)):  # noqa: ANN001, ANN201
    if response.status_code not in expected:
        raise RuntimeError(f"unexpected {response.status_code} for {response.request.path}")
    return response
