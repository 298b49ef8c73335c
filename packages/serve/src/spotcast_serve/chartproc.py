"""Drawing forecast PNGs in a second process while the command goes on.

`spotcast-serve predict` spends about a third of its time in matplotlib (its import and one
drawing per file), on one core of a machine that has more. :class:`ChartProcess` starts a child
interpreter (``python -m spotcast_serve.chartproc``) before the command's own imports, so
matplotlib is imported there while the command imports pandas and reads the store; each PNG is
then sent to the child as a :class:`~spotcast_serve.charts.ForecastChart` (NumPy arrays, pickled
over a pipe) and drawn there while the command forecasts the next zone.

Nothing is lost when the child cannot help: a chart it did not confirm (it failed to start, died,
or raised) is drawn in the command's own process when the command waits for the child, so every
file the command names exists when it exits, or the command fails with the drawing's error.
Within :func:`offloaded`, :func:`render` sends charts to the child; elsewhere (the API, the
dashboard, `spotcast run`, Python callers) it draws in-process, as before.
"""

from __future__ import annotations

import contextlib
import contextvars
import pickle
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:  # the charts module imports NumPy: not before the child is started
    from spotcast_serve.charts import ForecastChart

_ACTIVE: contextvars.ContextVar[ChartProcess | None] = contextvars.ContextVar("spotcast_chart_process",
                                                                            default=None)


class ChartProcess:
    """A child process that draws forecast PNGs; see the module docstring."""

    def __init__(self) -> None:
        self._jobs: list[tuple[ForecastChart, Path]] = []
        # a file, not a pipe: a chatty child cannot block; closed in close() or abandon()
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        self.problem: str | None = None
        """Why the child did not draw some chart (they were drawn in-process), or None."""
        try:
            self._proc: subprocess.Popen[bytes] | None = subprocess.Popen(
                # -P: no working directory on the child's path (a stray numpy.py there must not run)
                [sys.executable, "-P", "-m", "spotcast_serve.chartproc"], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=self._stderr)
        except OSError as exc:
            self._proc, self.problem = None, f"the chart process did not start: {exc}"

    def submit(self, chart: ForecastChart, path: Path) -> None:
        """Queue ``chart`` for ``path``; it is drawn in-process at :meth:`close` if the child cannot."""
        self._jobs.append((chart, path))
        if self._proc is None or self._proc.stdin is None:
            return
        try:
            pickle.dump((chart, path), self._proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            self._proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            self.problem = f"the chart process stopped taking charts: {exc}"
            self._stop()

    def close(self) -> None:
        """Wait for the child's answers; draw here whatever it did not confirm."""
        done: set[int] = set()
        if self._proc is not None and not self._jobs:  # nothing to draw (e.g. the command failed early)
            self._proc.kill()
            self._stop()
        if self._proc is not None and self._proc.stdin is not None and self._proc.stdout is not None:
            with contextlib.suppress(BrokenPipeError, OSError):
                self._proc.stdin.close()
            for i in range(len(self._jobs)):
                try:
                    ok, message = pickle.load(self._proc.stdout)
                except Exception:  # whatever garbled the answers, the charts get drawn below
                    self.problem = self.problem or f"the chart process ended early{self._child_error()}"
                    break
                if ok:
                    done.add(i)
                else:
                    self.problem = self.problem or f"the chart process failed on {self._jobs[i][1]}: {message}"
            self._stop()
        from spotcast_serve.charts import save_forecast_png

        for i, (chart, path) in enumerate(self._jobs):
            if i not in done:
                save_forecast_png(chart, path)  # its error, if any, is the command's error
        self._stderr.close()

    def abandon(self) -> None:
        """Stop the child and draw nothing more."""
        self._jobs.clear()
        if self._proc is not None:
            self._proc.kill()
            self._stop()
        self._stderr.close()

    def _child_error(self) -> str:
        self._stderr.seek(0)
        text = self._stderr.read().decode(errors="replace").strip()
        return f": {text.splitlines()[-1]}" if text else ""

    def _stop(self) -> None:
        if self._proc is None:
            return
        try:
            self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        for stream in (self._proc.stdin, self._proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        self._proc = None


@contextlib.contextmanager
def offloaded(enabled: bool = True) -> Iterator[ChartProcess | None]:
    """Within the block :func:`render` sends charts to a :class:`ChartProcess`; on leaving it,
    every chart is on disk. ``enabled=False`` (no PNG will be written) starts nothing."""
    if not enabled:
        yield None
        return
    proc = ChartProcess()
    token = _ACTIVE.set(proc)
    try:
        yield proc
    except KeyboardInterrupt:  # the user stopped the command: no drawing on the way out
        _ACTIVE.reset(token)
        proc.abandon()
        raise
    except BaseException:
        _ACTIVE.reset(token)
        try:
            proc.close()  # the zones forecast before the error keep the files they were told of
        except Exception as exc:  # the command's own error is the one to show
            print(f"note: a PNG could not be drawn either: {exc}", file=sys.stderr)
        raise
    _ACTIVE.reset(token)
    proc.close()


def render(chart: ForecastChart, path: Path) -> None:
    """Draw ``chart`` to ``path``: in the chart process within :func:`offloaded`, here otherwise."""
    proc = _ACTIVE.get()
    if proc is None:
        from spotcast_serve.charts import save_forecast_png

        save_forecast_png(chart, path)
    else:
        proc.submit(chart, path)


def main() -> None:
    """The child: import matplotlib at once, then draw each chart read from stdin and answer
    ``(True, "")`` or ``(False, error)`` on the protocol stream, until stdin closes. A thread
    reads stdin while charts are drawn, so the parent never waits on a full pipe; the protocol
    uses its own copy of stdout, and anything printed goes to stderr."""
    import os
    import queue
    import threading

    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a print() or a library's output cannot corrupt the answers
    jobs: queue.Queue[tuple[ForecastChart, str] | None] = queue.Queue()

    def read() -> None:
        stdin = sys.stdin.buffer
        try:
            while True:
                jobs.put(pickle.load(stdin))
        except EOFError:
            pass
        finally:
            jobs.put(None)

    threading.Thread(target=read, daemon=True).start()
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401  (imported now, while the parent works)
    from matplotlib.figure import Figure  # noqa: F401

    from spotcast_serve.charts import save_forecast_png

    while (job := jobs.get()) is not None:
        chart, path = job
        answer: tuple[bool, Any]
        try:
            save_forecast_png(chart, Path(path))
            answer = (True, "")
        except Exception as exc:  # reported to the parent, which draws it itself and shows the error
            answer = (False, f"{type(exc).__name__}: {exc}")
        pickle.dump(answer, answers, protocol=pickle.HIGHEST_PROTOCOL)
        answers.flush()


if __name__ == "__main__":
    main()
