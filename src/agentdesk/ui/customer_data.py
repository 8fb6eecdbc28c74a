"""The customer data pane: what the platforms know about the customer beyond the Customer
Details panel, one key (`p`) away, in the timeline's place.

On top the avatar (an identicon) and the header's figures; then collapsible sections, each
remembered collapsed or open (`cache.panel_state`): Fields (views common / known / all, a
filter narrowing them as the agent types, the values that lost on `o`), Identifiers (with
consent, deliverability, blacklisting, CCPA; `c` changes consent), Subscriptions (add,
remove) and Segments. The pane is filled only while shown: opening a customer with
hundreds of fields costs what opening a bare one does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Collapsible, Input, Static

from agentdesk.model.field_views import VIEWS, listed
from agentdesk.ui.customer_data_rows import (
    LOST,
    UNKNOWN,
    field_options,
    header,
    identifier_options,
    named_options,
    reach_line,
)
from agentdesk.ui.identicon import identicon
from agentdesk.ui.row_list import RowList

if TYPE_CHECKING:
    from agentdesk.cache.panel_state import PanelState
    from agentdesk.model.views import StoredProfile

SECTIONS = (("fields", "Fields"), ("identifiers", "Identifiers"),
            ("subscriptions", "Subscriptions"), ("segments", "Segments"))


class DataList(RowList):
    """A list of the pane; its actions ask the profile screen, which owns the edits."""

    HELP_GROUP = "Customer data"

    class Edit(Message):
        """The agent asked for an edit: `what` (an action name) on the record `record_id`."""

        def __init__(self, what: str, record_id: str | None) -> None:
            self.what, self.record_id = what, record_id
            super().__init__()

    def _ask(self, what: str) -> None:
        option = (self.get_option_at_index(self.highlighted)
                  if self.highlighted is not None and self.option_count else None)
        self.post_message(self.Edit(what, option.id if option and not option.disabled else None))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        screen_check = getattr(self.screen, "check_action", None)  # a read-only desk hides edits
        return screen_check(action, parameters) if screen_check else True


class FieldList(DataList):
    HELP_GROUP = "Fields"
    BINDINGS = [
        Binding("v", "next_view", "View", id="fields.view",
                tooltip="Common fields / known fields only / all fields"),
        Binding("o", "others", "Other values", id="fields.others",
                tooltip="Show or hide the values that lost to the one shown"),
        Binding("f", "filter", "Filter", id="fields.filter", tooltip="Type to narrow the fields"),
        Binding("a", "add_field", "Add field", id="fields.add"),
        Binding("delete,d", "remove_field", "Remove field", id="fields.remove"),
    ]

    def action_next_view(self) -> None:
        self._ask("next_view")

    def action_others(self) -> None:
        self._ask("others")

    def action_filter(self) -> None:
        self._ask("filter")

    def action_add_field(self) -> None:
        self._ask("add_field")

    def action_remove_field(self) -> None:
        self._ask("remove_field")


class IdentifierList(DataList):
    HELP_GROUP = "Identifiers"
    BINDINGS = [Binding("c", "consent", "Consent", id="identifiers.consent",
                        tooltip="Marketing consent: opted in → opted out → unknown")]

    def action_consent(self) -> None:
        self._ask("consent")


class SubscriptionList(DataList):
    HELP_GROUP = "Subscriptions"
    BINDINGS = [
        Binding("a", "add_subscription", "Add", id="subscriptions.add"),
        Binding("delete,d", "remove_subscription", "Remove", id="subscriptions.remove"),
    ]

    def action_add_subscription(self) -> None:
        self._ask("add_subscription")

    def action_remove_subscription(self) -> None:
        self._ask("remove_subscription")


class CustomerDataPane(VerticalScroll, can_focus=False):
    """See the module's docstring. `show` fills it (when shown); the screen handles `Edit`."""

    def __init__(self, panel: PanelState, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.panel = panel
        self.view = panel.field_view() if panel.field_view() in VIEWS else VIEWS[0]
        self.expanded: set[str] = set()  # fields whose losing values are listed
        self._profile: StoredProfile | None = None

    def compose(self) -> ComposeResult:
        # Nothing until first shown (`build`): every profile opened would pay for these widgets.
        return iter(())

    @property
    def built(self) -> bool:
        return bool(self.children)

    async def build(self) -> None:
        """Make the pane's widgets (once: the first time it is shown)."""
        if not self.built:
            await self.mount_all(list(self._parts()))

    def _parts(self) -> ComposeResult:
        collapsed = self.panel.collapsed()
        yield Horizontal(Static(id="identicon"), Static(id="figures"), id="data-header")
        lists = {"fields": FieldList, "identifiers": IdentifierList,
                 "subscriptions": SubscriptionList, "segments": DataList}
        for name, title in SECTIONS:
            parts: list[Any] = []
            if name == "fields":
                parts += [Static(id="field-views"),
                          Input(placeholder="filter fields (key, name or value)", id="field-filter",
                                compact=True)]
            if name == "identifiers":
                parts.append(Static(id="reach"))
            parts.append(lists[name](id=f"data-{name}"))
            yield Collapsible(*parts, title=title, collapsed=name in collapsed, id=f"section-{name}")

    def on_collapsible_collapsed(self, event: Collapsible.Collapsed) -> None:
        self._remember(event)

    def on_collapsible_expanded(self, event: Collapsible.Expanded) -> None:
        self._remember(event)

    def _remember(self, event: Collapsible.Toggled) -> None:
        event.stop()
        name = (event.collapsible.id or "").removeprefix("section-")
        self.panel.set_collapsed(name, event.collapsible.collapsed)

    def show(self, profile: StoredProfile) -> None:
        """Fill the pane (built: see `build`)."""
        self._profile = profile
        if not self.built:
            return
        c = profile.customer
        self.query_one("#identicon", Static).update(Text("\n").join(identicon(c.id)))
        self.query_one("#figures", Static).update(header(c, profile.fields))
        self._show_fields()
        identifiers = self.query_one("#data-identifiers", IdentifierList)
        keep = identifiers.highlighted
        identifiers.clear_options().add_options(identifier_options(profile.identifiers))
        if keep is not None:
            identifiers.highlighted = min(keep, identifiers.option_count - 1)
        self.query_one("#reach", Static).update(reach_line(profile.identifiers))
        self.query_one("#data-subscriptions", SubscriptionList).clear_options().add_options(
            named_options(profile.subscriptions, when="subscribed_at", empty="no subscriptions — a adds one",
                          kind=True))
        self.query_one("#data-segments", DataList).clear_options().add_options(
            named_options(profile.segments, when="since", empty="in no segment"))

    def _show_fields(self) -> None:
        if self._profile is None or not self.built:
            return
        text = self.query_one("#field-filter", Input).value
        views = Text("view ", style="dim")
        for n, name in enumerate(VIEWS):
            views.append(" · " if n else "", style="dim")
            views.append(f"{name} fields" if name != "known" else "known only",
                         style="bold reverse" if name == self.view else "dim")
        views.append("   (v)", style="dim")
        self.query_one("#field-views", Static).update(views)
        fields = self.query_one("#data-fields", FieldList)
        keep = fields.highlighted
        pairs = listed(self._profile.fields, self.view, text)
        fields.clear_options().add_options(field_options(pairs, self.expanded))
        if keep is not None:
            fields.highlighted = min(keep, fields.option_count - 1)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "field-filter":
            event.stop()
            self._show_fields()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "field-filter":
            event.stop()
            self.query_one("#data-fields", FieldList).focus()

    def next_view(self) -> None:
        self.view = VIEWS[(VIEWS.index(self.view) + 1) % len(VIEWS)]
        self.panel.set_field_view(self.view)
        self._show_fields()

    def toggle_others(self, record_id: str | None) -> None:
        field = self.field(record_id)
        if field is None:
            return
        self.expanded ^= {field.key}
        self._show_fields()

    def focus_filter(self) -> None:
        self.query_one("#section-fields", Collapsible).collapsed = False
        self.query_one("#field-filter", Input).focus()

    def field(self, record_id: str | None) -> Any:
        """The field of a row (its own, or the field a lost value belongs to)."""
        if self._profile is None or not record_id or record_id.startswith(UNKNOWN):
            return None
        if record_id.startswith(LOST):
            record_id = record_id[len(LOST):].split("\0")[0]
        return next((f for f in self._profile.fields if f.id == record_id), None)

    def focus_first(self) -> None:
        for name, _ in SECTIONS:
            if not self.query_one(f"#section-{name}", Collapsible).collapsed:
                self.query_one(f"#data-{name}").focus()
                return
        self.query_one("#section-fields CollapsibleTitle").focus()
