"""The garbage collector eased while the desk reads or files many records at once.

A first sync, the search index (100,000 rows) and the queue (20,000 rows) make objects by the
hundred thousand that die by reference count; Python's collector, triggered every 700 new
objects, scans them and everything else in the process again and again, holding the GIL
while the screen waits. Within `collector_eased` the objects alive on entry are set aside
(`gc.freeze`) and young collections wait for 10,000 new objects instead of 700: a small
fraction of the collections. The collector keeps running: paused outright it saved a little
more, but the desk's own garbage piled up and the first collection afterwards froze the
screen. Figures: benchmarks/README.md.

Several threads may be inside at once (the index load and a sync): the first in sets the
thresholds, the last out puts them back.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

EASED = (10_000, 20, 100)

_lock = threading.Lock()
_inside = 0
_saved: tuple[int, int, int] = gc.get_threshold()
_unfreeze = False


@contextmanager
def collector_eased() -> Iterator[None]:
    global _inside, _saved, _unfreeze
    with _lock:
        if _inside == 0:
            _saved = gc.get_threshold()
            # The desk froze its start-up objects for good (ui.startup); others had not.
            _unfreeze = gc.get_freeze_count() == 0
            gc.freeze()
            gc.set_threshold(*EASED)
        _inside += 1
    try:
        yield
    finally:
        with _lock:
            _inside -= 1
            if _inside == 0:
                gc.set_threshold(*_saved)
                if _unfreeze:
                    gc.unfreeze()


class Hold:
    """The collector held off by one owner until it lets go, and only if it was running. The
    desk holds it while a profile opens, until that profile's first frame: the open makes
    tens of thousands of objects that live on (a long history's parsed file, its timeline
    blocks, the new screen's widgets), which young collections looked at again and again
    while the agent waited (3-8 ms of an open). Let go, the collector looks at them once,
    after the frame. As the command does for its start-up (ui.startup)."""

    def __init__(self) -> None:
        self._holding = False

    def hold(self) -> bool:
        """Pause collection; False (and nothing done) if already held or paused by another."""
        if self._holding or not gc.isenabled():
            return False
        gc.disable()
        self._holding = True
        return True

    def release(self) -> None:
        """Resume collection if this hold paused it (again: nothing)."""
        if self._holding:
            self._holding = False
            gc.enable()


@contextmanager
def collector_paused() -> Iterator[None]:
    """No collection while records that hold no cycles are read in one go: a profile file
    parsed and viewed, the chart's facts of every customer. A customer with a long history is
    ~20,000 new containers (1,200 conversations, the timeline's summary): the
    collector ran some thirty times over them as they were made, and now and then over the
    whole heap (the index, the queue), 2-4 ms of an open that takes ~45. Enabled again after,
    it looks at them once. Left as found when already paused (the desk's start-up, an open)."""
    hold = Hold()
    hold.hold()
    try:
        yield
    finally:
        hold.release()
