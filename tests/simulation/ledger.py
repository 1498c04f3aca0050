"""What must hold after every simulated day: the books agree (``check``)."""

from __future__ import annotations

from workbook_engine.services.ledger.integrity import run_check, summary_lines

from tests.simulation.world import World


def books_faults(world: World) -> list[str]:
    """The lines of ``check`` that say what is broken (none when the books agree)."""
    report = run_check(world.ctx)
    if report.ok:
        return []
    return [line for line in summary_lines(report)][:20]
