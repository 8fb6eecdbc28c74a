"""The key hints line at the bottom of every screen: one widget, drawn as one line of text.

Textual's Footer mounts a widget per key and mounts them all again whenever the focus moves;
on the way to the first paint that cost more than all of the profile's own widgets. This line draws the same hints itself and maps a click back to its key.

A dialog has a bar of its own, drawn over the profile's, showing the dialog's keys only (a
modal screen's bindings stop at the dialog). When the hints do not fit, the least important
go first (`PRIORITY`); help, which lists every key, always stays.
"""

from __future__ import annotations

from collections.abc import Iterator

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget

from agentdesk.ui.component_styles import StylesOnDemand


# Binding ids by importance; the others come after these, and the last go first when the line
# is too narrow for every hint.
PRIORITY = [
    "app.help", "help.close", "form.save", "form.cancel", "confirm.yes", "confirm.no",
    "resolve.keep", "resolve.discard", "resolve.cancel", "results.open", "search.back",
    "queue.open", "queue.back", "customers.open", "customers.back", "customers.query",
    "customers.sort", "customers.export", "customers.columns", "columns.done", "export.save",
    "export.cancel", "chart.channel", "chart.period", "chart.view", "chart.export",
    "composer.send", "composer.add_note", "composer.note", "composer.reply", "composer.close",
    "composer.canned",
    "app.quit", "app.search", "profile.new_note", "profile.edit_contact",
    "identifiers.consent", "fields.view", "notes.delete",
    "relationships.add", "relationships.change", "relationships.remove",
    "app.sync", "profile.back", "form.discard", "app.command_palette",
    "profile.customer_data", "profile.toggle_details",
    "timeline.next_conversation", "timeline.previous_conversation",
    "profile.reply", "app.queue", "app.next_in_queue", "profile.conversation_status",
    "profile.conversation_assignee",
]
KEEP = {"app.help", "help.close"}  # never dropped


def _rank(binding: Binding) -> int:
    try:
        return PRIORITY.index(binding.id or "")
    except ValueError:
        return len(PRIORITY)


class KeyBar(StylesOnDemand, Widget):
    """Bindings of the focused widget and its ancestors that ask to be shown (`show=True`)."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"keybar--key", "keybar--description", "keybar--disabled"}
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        & > .keybar--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        & > .keybar--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        & > .keybar--disabled {
            text-style: dim;
        }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self._spans: list[tuple[int, int, str]] = []  # (start, end, key) of each drawn hint

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        self.refresh()

    def _hints(self) -> Iterator[tuple[Binding, bool]]:
        """One (binding, enabled) per action, in the order Textual resolves them."""
        seen: set[str] = set()
        palette = self.app.COMMAND_PALETTE_BINDING
        for key, (_node, binding, enabled, _tooltip) in self.screen.active_bindings.items():
            if binding.show and binding.action not in seen and key != palette:
                seen.add(binding.action)
                yield binding, enabled

    def _fitted(self) -> tuple[list[tuple[Binding, bool]], tuple[Binding, bool] | None]:
        """The hints that fit the width, least important dropped first; the palette's apart
        (it is drawn at the right)."""
        hints = list(self._hints())
        palette = None
        active = self.screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING)
        if self.app.ENABLE_COMMAND_PALETTE and active is not None:
            palette = (active.binding, active.enabled)
        width = self.size.width or self.app.size.width
        cells = {id(b): len(self._label(b)) for b, _ in hints + ([palette] if palette else [])}
        used = sum(cells.values())
        while used > width:
            droppable = [h for h in hints if h[0].id not in KEEP]
            if palette is not None and (not droppable or _rank(palette[0]) >= max(
                    _rank(b) for b, _ in droppable)):
                dropped, palette = palette, None
            elif droppable:
                dropped = max(droppable, key=lambda h: _rank(h[0]))
                hints.remove(dropped)
            else:
                break
            used -= cells[id(dropped[0])]
        return hints, palette

    def _label(self, binding: Binding) -> str:
        return f" {self.app.get_key_display(binding)} {binding.description} "

    def render(self) -> Text:
        key_style = self.get_component_rich_style("keybar--key")
        description_style = self.get_component_rich_style("keybar--description")
        disabled_style = self.get_component_rich_style("keybar--disabled", partial=True)
        line = Text(no_wrap=True, overflow="crop", end="")
        spans: list[tuple[int, int, str]] = []

        def hint(binding: Binding, enabled: bool) -> None:
            start = len(line)
            line.append(f" {self.app.get_key_display(binding)} ", key_style)
            line.append(f"{binding.description} ", description_style)
            if not enabled:
                line.stylize(disabled_style, start)
            spans.append((start, len(line), binding.key))

        hints, palette = self._fitted()
        for binding, enabled in hints:
            hint(binding, enabled)
        if palette is not None:
            binding, enabled = palette
            gap = self.size.width - len(line) - len(self._label(binding))
            if gap > 0:  # right-aligned when there is room, else after the others
                line.append(" " * gap)
            hint(binding, enabled)
        self._spans = spans
        return line

    def on_click(self, event: events.Click) -> None:
        for start, end, key in self._spans:
            if start <= event.x < end:
                self.app.simulate_key(key.split(",")[0])
                return
