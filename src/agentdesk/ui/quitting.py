"""`q` quits at once, however many keys wait ahead of it.

Textual hands each key to the focused widget's message queue and works through the queue in
order; when keys arrive faster than the desk handles them (a held-down j, a paste, a slow
redraw), a `q` at the end waited for every one of them, and quitting then handled them all
again while closing the widgets. The app looks at each `q` as it arrives instead: if it
quits the screen as it is and every key still waiting ahead of it only moves the view (the
agent cannot mean those to be typed anywhere), the waiting keys are dropped and the desk
quits now. A key ahead that could open a form or a search (where `q` would be typed) keeps
the usual order.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from textual import events
from textual.message import Message

if TYPE_CHECKING:
    from textual.app import App
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
    """Keys handed to a widget of the current screen and not handled yet."""
    keys: list[events.Key] = []
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
