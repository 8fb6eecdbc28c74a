"""Screens styled once when first shown, not twice.

`push_screen` posts `ScreenResume(refresh_styles=True)`, and Textual's handler then applies
the stylesheet again to every node of the screen, each styled a moment before as it mounted:
on the way to the desk's first frame, 15 of its 48 style applications; for the customers
table, the queue or search, as much again of their first frame. A screen with this mixin first
in its bases turns that off the first time (its handler runs before Textual's); later showings
(back from a dialog, a theme chosen meanwhile) are styled again as Textual does it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events

if TYPE_CHECKING:
    from textual.screen import Screen

    _Base = Screen
else:
    _Base = object  # a mixin, not a CSS type: selectors do not see it


class StyledOnceWhenShown(_Base):
    # Set by the first showing, after the screen's own `on_screen_resume` (Textual calls the
    # handlers down the bases in order): a screen's handler sees False when first shown.
    shown_before = False

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        if not self.shown_before:
            self.shown_before = True
            event.refresh_styles = False
