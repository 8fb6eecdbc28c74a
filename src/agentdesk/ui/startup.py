"""Start-up of the desk without the cyclic garbage collector.

Importing Textual, pydantic and the desk, parsing CSS and mounting the first screen create
some 300,000 objects that live as long as the process. Python's collector scans them again
and again while they are made, on the way to the first frame. The desk's command
pauses collection before its imports; the app resumes it once the first profile is painted,
after freezing what exists then (`gc.freeze`), so later collections skip those objects too.
Only the command pauses: an app made by a test or another program never changes the collector.
"""

from __future__ import annotations

import gc

_paused = False


def pause_gc() -> None:
    """Called first by the `agentdesk` command, before the heavy imports."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume_gc() -> None:
    """Called by the app after its first frame; does nothing unless `pause_gc` paused it."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()
