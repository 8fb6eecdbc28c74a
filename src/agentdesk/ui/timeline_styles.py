"""The styles the timeline draws entries with, from its component classes in app.tcss."""

from __future__ import annotations

from rich.style import Style
from textual.widget import Widget

from agentdesk.ui.component_styles import StylesByName


def entry_styles(view: Widget) -> StylesByName:
    """Each `timeline--*` component's style (`timeline_draw.STYLE_NAMES`), and the mark's tint,
    as they are drawn with."""
    return StylesByName(lambda name: _mark(view) if name == "mark" else _style(view, f"timeline--{name}"))


def _mark(view: Widget) -> Style:
    # A tint: its colour is blended with the background, which a partial style skips.
    return Style(bgcolor=view.get_component_rich_style("timeline--mark").bgcolor)


def _style(view: Widget, name: str) -> Style:
    # Partial (no background: the line's comes from the widget), but with the colour
    # resolved against the real background: partial alone turns an `auto` colour such as
    # $text-muted white, unreadable on a light theme.
    # A component with a background of its own (the headers) takes it blended, too.
    resolved = view.get_component_rich_style(name, partial=False)
    own = view.get_component_styles(name).has_rule("background")
    return view.get_component_rich_style(name, partial=True) + Style(
        color=resolved.color, bgcolor=resolved.bgcolor if own else None)
