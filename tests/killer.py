"""Run `spotcast` in a child process that SIGKILLs itself right after a given commit.

    python killer.py [--fast-train] <name>:<n> spotcast-args...

``name`` is a feature group or model name; the process kills itself (SIGKILL, no cleanup)
just after the n-th committed write to it, i.e. between two steps of the pipeline where an
interrupted run is most likely to leave half-done work behind. ``--fast-train``: the child's
fits use tests/fast_train.py's smaller boosting (as the ``fast_train`` fixture in this process).
"""

from __future__ import annotations

import os
import signal
import sys

from spotcast_storage.hookspecs import hookimpl
from spotcast_storage.plugins import get_plugin_manager


class Killer:
    def __init__(self, target: str, n: int) -> None:
        self.target, self.n, self.seen = target, n, 0

    @hookimpl
    def spotcast_after_commit(self, event, project):
        if event.name == self.target or event.name.startswith(self.target + "_"):
            self.seen += 1
            if self.seen >= self.n:
                print(f"killer: SIGKILL after {event.kind} {event.name} #{self.seen}", flush=True)
                os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    if sys.argv[1] == "--fast-train":
        import fast_train  # beside this script, which is on sys.path[0]

        fast_train.use()
        del sys.argv[1]
    target, n = sys.argv[1].split(":")
    get_plugin_manager().register(Killer(target, int(n)), name="test-killer")
    sys.argv = ["spotcast", *sys.argv[2:]]
    from spotcast_storage.umbrella import main

    main()
