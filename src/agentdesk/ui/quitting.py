"""`q` quits at once, however many keys wait ahead of it.

Textual queues each key for the app, which hands it to the focused widget's queue, and the
widget hands what it does not handle back to the app, where the bindings run; between two
keys the screen may redraw. When keys arrive faster than that (a held-down key, a paste, a
slow redraw), a `q` at the end waited for every one of them, and quitting then handled them
all again while closing the widgets. The app looks at each `q` as the terminal hands it over
instead: if it quits the screen as it is and every key still waiting ahead of it only moves
the view or the focus (the agent cannot mean those to be typed anywhere), the waiting input is
dropped and the desk quits now. A key ahead that could open a form or a search (where `q`
would be typed) keeps the usual order.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import TYPE_CHECKING, Any

from textual import events
from textual.message import Message

if TYPE_CHECKING:
    from textual.app import App
    from textual.driver import Driver
    from textual.message_pump import MessagePump

QUIT_ID = "app.quit"

# Actions that only move the view or the focus: nothing they do makes a later `q` mean
# anything but quit. (Action names without their arguments.)
MOVES = frozenset({
    "scroll_lines", "half_page", "top", "bottom", "conversation",  # the timeline
    "cursor_down", "cursor_up", "first", "last", "page", "move",  # lists, search results
    "focus_next", "focus_previous", "toggle_details", "focus_timeline", "sync",
})


FOCUS_MOVES = frozenset({"focus_next", "focus_previous", "toggle_details", "focus_timeline"})


class Dropped(Message, bubble=False):
    """Stands in for the input events dropped from a queue (nothing handles it)."""


def _queued(pump: MessagePump) -> deque[Message | None]:
    """The messages waiting for `pump` (Textual's own small queue keeps them in a deque)."""
    return pump._message_queue.values  # noqa: SLF001 - where the keys wait


def _name(action: str) -> str:
    """"app.focus_next" -> "focus_next", "scroll_lines(1)" -> "scroll_lines"."""
    return action.partition("(")[0].rpartition(".")[2]


def _waiting_keys(app: App) -> list[events.Key]:
    """Keys not handled yet: waiting for the app to hand them on, or handed to a widget of
    the current screen."""
    keys = [m for m in _queued(app) if isinstance(m, events.Key) and not m.is_forwarded]
    for node in app.screen.walk_children(with_self=True):
        keys.extend(m for m in _queued(node) if isinstance(m, events.Key))
    return keys


def quits_now(app: App, key: str) -> bool:
    """Whether `key` quits the desk in its present state, the keys ahead of it included."""
    bindings = app.screen.active_bindings
    bound = bindings.get(key)
    if bound is None or bound.binding.id != QUIT_ID or not bound.enabled:
        return False  # typed into a field, a dialog is open, or q is mapped elsewhere
    focus_moved = False
    for waiting in _waiting_keys(app):
        ahead = bindings.get(waiting.key)
        if ahead is None:
            if focus_moved:  # judged on the widget focused now: after a Tab it may be bound
                return False
            continue
        name = _name(ahead.binding.action)
        if name not in MOVES:
            return False
        focus_moved = focus_moved or name in FOCUS_MOVES
    return True


def drop_waiting_input(app: App) -> None:
    """Forget the keys and mouse events no widget has handled yet: closing the widgets would
    otherwise handle each of them first."""
    pumps: list[MessagePump] = [app]
    for screen in app.screen_stack:
        pumps.extend(screen.walk_children(with_self=True))
    for pump in pumps:
        waiting = _queued(pump)
        kept = [m for m in waiting if not isinstance(m, events.InputEvent)]
        if len(kept) != len(waiting):
            waiting.clear()
            # Never emptied: a pump woken for a message takes one without looking again.
            waiting.extend(kept or [Dropped()])


def batching(driver_class: type[Driver]) -> type[Driver]:
    """`driver_class`, handing the keys of one read from the terminal to the app together.

    Textual's input thread posts each key to the event loop on its own, and each post wakes
    the loop (a write to its self-pipe, which lets go of the GIL): with the desk busy drawing,
    300 keys typed ahead took the input thread seconds to hand over, and the `q` behind them
    waited that long before the app could even look at it. Keys read together now reach the
    app in one wake-up, in order.
    """

    class BatchingDriver(driver_class):  # type: ignore[valid-type, misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._batch: list[Message] = []
            self._batch_lock = threading.Lock()

        def send_message(self, message: Message) -> None:  # on the input thread
            with self._batch_lock:
                self._batch.append(message)
                if len(self._batch) > 1:
                    return  # the hand-over already asked for takes this one too
            self._loop.call_soon_threadsafe(self._hand_over)

        def _hand_over(self) -> None:  # on the event loop
            with self._batch_lock:
                batch, self._batch = self._batch, []
            for message in batch:
                self._app.post_message(message)

    BatchingDriver.__name__ = f"Batching{driver_class.__name__}"
    return BatchingDriver
