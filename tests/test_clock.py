"""Services take `now` from their caller: nothing under autotrack/services/ reads the wall clock,
so a test (or a sweep simulating a later time) decides what time it is, on any date."""

import ast
from pathlib import Path

SERVICES = Path(__file__).resolve().parents[1] / "autotrack" / "services"
# The calls that read the wall clock. time.monotonic() measures a duration and is allowed.
WALL_CLOCK = {
    ("utcnow",),
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "time_ns"),
}


def _dotted(func):
    parts = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
    return tuple(reversed(parts))


def wall_clock_reads(source):
    """[(line, call)] of the wall-clock reads in `source`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            name = _dotted(node.func)
            if name[-2:] in WALL_CLOCK or name[-1:] in WALL_CLOCK:
                found.append((node.lineno, ".".join(name)))
    return found


def test_the_check_sees_each_way_of_reading_the_clock():
    source = (
        "a = utcnow()\nb = datetime.now(timezone.utc)\nc = time.time()\nd = dt.date.today()\ne = time.monotonic()\n"
    )
    assert [call for _, call in wall_clock_reads(source)] == ["utcnow", "datetime.now", "time.time", "dt.date.today"]


def test_no_service_reads_the_wall_clock():
    reads = [
        f"{path.relative_to(SERVICES.parent.parent)}:{line}: {call}()"
        for path in sorted(SERVICES.rglob("*.py"))
        for line, call in wall_clock_reads(path.read_text())
    ]
    assert not reads, "services must take `now` from their caller:\n" + "\n".join(reads)
