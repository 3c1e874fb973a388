"""Progress of `run`'s phases on stderr: on a terminal, one line per phase that updates in place
(rich), with its elapsed time; elsewhere (CI, a pipe, a file) plain lines: when a phase starts,
at most every `plain_every` seconds while it runs, and when it ends.

stdout is left to the summary, so a script can read it while a person watches stderr."""

from __future__ import annotations

import logging
import sys
import time
from contextlib import contextmanager
from typing import Callable, Iterator, TextIO


def _elapsed(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 60 else f"{int(seconds // 60)} min {int(seconds % 60):02d} s"


class PlainProgress:
    """Lines a log collector keeps: a phase's start, its news (throttled), its end with the time it took."""

    def __init__(self, stream: TextIO | None = None, plain_every: float = 10.0,
                 clock: Callable[[], float] = time.monotonic):
        self.stream, self.plain_every, self.clock = stream or sys.stderr, plain_every, clock
        self._phase: str | None = None
        self._started = self._shown = 0.0
        self._detail = ""

    def start(self, phase: str, detail: str = "") -> None:
        self._phase, self._started, self._shown, self._detail = phase, self.clock(), self.clock(), detail
        self._line(f"{phase}" + (f": {detail}" if detail else ""))

    def update(self, detail: str) -> None:
        self._detail = detail
        if self.clock() - self._shown >= self.plain_every:
            self._shown = self.clock()
            self._line(f"  {detail} ({_elapsed(self.clock() - self._started)})")

    def note(self, text: str) -> None:
        """A line that stays (an event worth remembering, e.g. a shop owner's action)."""
        self._line(f"  {text}")

    news = note  # a rare step worth its own line here (the broker's start), the live detail on a terminal

    def finish(self, detail: str | None = None) -> None:
        if self._phase is None:
            return
        text = detail if detail is not None else self._detail
        self._line(f"  done in {_elapsed(self.clock() - self._started)}" + (f": {text}" if text else ""))
        self._phase = None

    def close(self) -> None:
        self.finish()

    def _line(self, text: str) -> None:
        print(text, file=self.stream, flush=True)


class TerminalProgress:
    """One rich line per phase: a spinner while it runs, a tick when done, its detail and elapsed time."""

    def __init__(self, stream: TextIO | None = None):
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
        from rich.table import Column

        self.console = Console(file=stream or sys.stderr)
        # the time, then the phase and its detail on one line, cut at its end on a narrow terminal
        self._progress = Progress(SpinnerColumn(finished_text="[green]✓", table_column=Column(min_width=1)),
                                  TimeElapsedColumn(table_column=Column(min_width=7)),
                                  TextColumn("{task.description} [dim]{task.fields[detail]}",
                                             table_column=Column(no_wrap=True, overflow="ellipsis", ratio=1)),
                                  console=self.console, transient=False, redirect_stdout=False,
                                  redirect_stderr=False)
        self._progress.start()
        self._task = None
        self._phase = ""
        # log lines (own loggers on stderr) print above the live lines instead of through them
        self._rerouted = [(h, h.setStream(_AboveLive(self._progress.console)))
                          for h in logging.getLogger().handlers
                          if type(h) is logging.StreamHandler and h.stream is self.console.file]

    def start(self, phase: str, detail: str = "") -> None:
        self.finish()
        self._phase = phase
        self._task = self._progress.add_task(phase, total=1, detail=self._fit(detail))

    def update(self, detail: str) -> None:
        if self._task is not None:
            self._progress.update(self._task, detail=self._fit(detail))

    def news(self, text: str) -> None:
        self.update(text)

    def _fit(self, detail: str) -> str:
        """The detail cut to the terminal's width: rich would squeeze the time column out instead."""
        room = self.console.width - len(self._phase) - 12  # spinner, time, spaces
        return detail if len(detail) <= room else detail[:max(0, room - 1)] + "…"

    def note(self, text: str) -> None:
        self._progress.console.print(f"  {text}", highlight=False, markup=False)

    def finish(self, detail: str | None = None) -> None:
        if self._task is None:
            return
        fields = {} if detail is None else {"detail": self._fit(detail)}
        self._progress.update(self._task, completed=1, **fields)
        self._progress.stop_task(self._task)
        self._task = None

    def close(self) -> None:
        self.finish()
        self._progress.stop()
        for handler, stream in self._rerouted:
            handler.setStream(stream)
        self._rerouted = []


class _AboveLive:
    """A stream for a logging handler: each line is printed above rich's live lines."""

    def __init__(self, console):
        self.console = console

    def write(self, text: str) -> None:
        if text.strip():
            self.console.print(text.rstrip("\n"), markup=False, highlight=False, soft_wrap=True)

    def flush(self) -> None:
        pass


def progress_for(stream: TextIO | None = None) -> PlainProgress | TerminalProgress:
    stream = stream or sys.stderr
    return TerminalProgress(stream) if stream.isatty() else PlainProgress(stream)


@contextmanager
def phase(progress, name: str, detail: str = "") -> Iterator[None]:
    progress.start(name, detail)
    try:
        yield
    finally:
        progress.finish()
