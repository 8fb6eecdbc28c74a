import time

T0 = time.perf_counter()  # before any other import: the script's first instruction

# One start-up of the desk (or of a minimal Textual app), in a fresh process.
#
#     python child_start.py '{"kind": "desk"|"minimal", "out": PATH, "cache": DIR,
#                             "customer": ID, "size": [W, H], "headless": true}'
#
# Times (perf_counter, CLOCK_MONOTONIC: comparable with the parent's clock) are written to
# `out` as JSON:
#
# * t0: the first line of this script ran (interpreter start-up is before it);
# * paint: the first frame of the profile screen (desk; a frame counts once the screen has
#   loaded its profile) or of the default screen (minimal app) was rendered and handed to the
#   driver: measured in `App._display`, the one place every frame goes through, for both apps;
# * index, queue: (desk) the customer search index, then the queue, finished loading in the
#   background;
# * maxrss_kb: peak resident memory, taken once the profile is painted and, for the desk, the
#   index and the queue are loaded (plus one more refresh); maxrss_index_kb: the peak until
#   the index was loaded (the queue is read after it).
#
# The process then ends at once (os._exit): shutdown is not part of any figure.

import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402


def main() -> None:
    spec = json.loads(sys.argv[1])
    marks: dict[str, float] = {"t0": T0}

    def finish() -> None:
        marks["driver"] = type(app._driver).__name__
        marks["size"] = list(app.size)
        marks["maxrss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        with open(spec["out"], "w") as handle:
            json.dump(marks, handle)
        os._exit(0)

    if spec["kind"] == "minimal":
        from textual.app import App
        from textual.widgets import Footer, Header, Static

        class Minimal(App):
            def compose(self):  # type: ignore[no-untyped-def]
                yield Header()
                yield Static("Hello from a minimal Textual app.")
                yield Footer()

            def _display(self, screen, renderable) -> None:  # type: ignore[no-untyped-def]
                batched = self._batch_count
                super()._display(screen, renderable)
                if renderable is not None and not batched and "paint" not in marks:
                    marks["paint"] = time.perf_counter()
                    self.call_after_refresh(finish)

        app = Minimal()
    else:
        from pathlib import Path

        from agentdesk.ui.startup import pause_gc

        pause_gc()  # as agentdesk.cli does for the desk, before its imports
        from agentdesk.config import Config
        from agentdesk.cache.cache import Cache

        cache = Cache.open(Path(spec["cache"]))  # as agentdesk.cli does, before the UI import
        from agentdesk.ui.app import AgentDesk
        from agentdesk.ui.profile import ProfileScreen

        class Desk(AgentDesk):

            def _display(self, screen, renderable) -> None:  # type: ignore[no-untyped-def]
                batched = self._batch_count
                super()._display(screen, renderable)
                if (
                    renderable is not None
                    and not batched
                    and "paint" not in marks
                    and isinstance(screen, ProfileScreen)
                    and screen.profile is not None
                ):
                    marks["paint"] = time.perf_counter()
                    marks["read_only"] = cache.read_only
                    if "queue" in marks:
                        self.call_after_refresh(finish)

            def _index_loaded(self, index) -> None:  # type: ignore[no-untyped-def]
                super()._index_loaded(index)
                marks["index"] = time.perf_counter()
                marks["index_rows"] = len(index)
                marks["maxrss_index_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

            def _queue_loaded(self, *args) -> None:  # type: ignore[no-untyped-def]
                # The desk reads the index, then the queue, after its first frame: memory is
                # taken once both are in.
                super()._queue_loaded(*args)
                marks["queue"] = time.perf_counter()
                marks["queue_rows"] = len(self.work.rows or [])
                if "paint" in marks and "index" in marks:
                    self.call_after_refresh(finish)

        config = Config(path=Path(spec["cache"]) / "no-config.toml", author="bench", keymap={})
        app = Desk(cache, config, customer_id=spec["customer"])

    if spec.get("headless", True):
        app.run(headless=True, size=tuple(spec["size"]))
    else:
        app.run()
    # Only reached if the app ended before painting.
    marks["error"] = "the app exited before its first paint"
    finish()


main()
