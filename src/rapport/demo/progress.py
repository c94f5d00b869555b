"""A ``rich`` progress display for the demo's phases (one bar per phase)."""

from __future__ import annotations

from collections.abc import Callable

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


def rich_progress(console) -> Progress:  # type: ignore[no-untyped-def]
    return Progress(
        TextColumn("{task.description:<14}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


class RichPhases:
    """Adapts a ``rich`` ``Progress`` to the generator's ``Progress`` protocol."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress

    def phase(self, name: str, total: int) -> Callable[[int], None]:
        task = self.progress.add_task(name, total=max(total, 0))
        return lambda n: self.progress.advance(task, n)
