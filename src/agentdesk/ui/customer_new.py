"""A new customer: a name and at least one contact point, checked field by field like the edit
form (it is that form, opened empty). Opened from the palette, and from the search screen when
nothing matches, with what was searched for already in the right field."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.widgets import Input, Static

from agentdesk.cache.files import CacheError
from agentdesk.model.kinds import ContactKind
from agentdesk.model.sanitize import clean_line
from agentdesk.ui.forms import ContactForm, ContactRow, DetailsEdit, FormScreen

if TYPE_CHECKING:
    from agentdesk.cache.drafts import Drafts
    from agentdesk.ui.app import AgentDesk

DRAFT_KEY = "customer:new"  # one new customer at a time is being written
_PHONE = re.compile(r"\+?[0-9 ()\-./]{7,}")
NEED_CONTACT = ("A new customer needs at least one contact point: an e-mail address, a phone "
                "number or an address.")


def opening_fields(query: str) -> tuple[str, str, str]:
    """(name, e-mail, phone) from what the agent searched for: an address or a number goes in
    its own field, anything else is taken for the name."""
    query = " ".join(query.split())
    if "@" in query and " " not in query:
        return "", query, ""
    if _PHONE.fullmatch(query) and sum(c.isdigit() for c in query) >= 7:
        return "", "", query
    return query, "", ""


class NewCustomerForm(ContactForm):
    """Returns a validated DetailsEdit with at least one contact point, or None."""

    form_title = "New customer"
    hint = "Name, and at least one contact point; empty rows are left out."

    def __init__(self, query: str = "", *, drafts: Drafts | None = None,
                 draft_key: str | None = None) -> None:
        FormScreen.__init__(self, drafts=drafts, draft_key=draft_key)
        self.focus_on = None
        self._opening = opening_fields(query)

    def opening_values(self) -> tuple[str, str]:
        return self._opening[0], ""

    def contact_rows(self) -> list[ContactRow]:
        _, email, phone = self._opening
        return [ContactRow(None, ContactKind.EMAIL, 0, email),
                ContactRow(None, ContactKind.PHONE, 1, phone),
                ContactRow(None, ContactKind.ADDRESS, 2)]

    def focus_field(self) -> None:
        """On the name, unless the search filled it: then on the first empty row."""
        target = self.query_one("#name", Input)
        if target.value:
            target = next((i for i in self.query(".contact-value").results(Input)
                           if not i.value), target)
        target.cursor_position = len(target.value)
        target.focus()

    def validated(self) -> DetailsEdit | None:
        edit = super().validated()
        if edit is None:
            return None
        if not edit.contacts:
            self.query_one("#error-0", Static).update(NEED_CONTACT)
            self.query_one("#value-0", Input).focus()
            self.notify("Not saved: a contact point is needed.", severity="error", markup=False)
            return None
        # The first point of each kind is the one to use, unless the agent ticked another.
        ticked = {p.kind for p in edit.contacts if p.primary}
        contacts = []
        for point in edit.contacts:
            if point.kind not in ticked:
                ticked.add(point.kind)
                point = point.model_copy(update={"primary": True})
            contacts.append(point)
        return DetailsEdit(edit.name, edit.company, contacts)


def new_customer(app: AgentDesk, query: str = "",
                 before_open: Callable[[], None] | None = None) -> None:
    """Open the form; once saved, the customer is created (queued for the store) and opened.
    `before_open` runs first then (the search screen closes itself)."""
    if app.cache.read_only:
        app.notify("This cache is read-only (another agentdesk has it open).", severity="warning")
        return

    def save(edit: DetailsEdit | None) -> None:
        if edit is None:
            return
        try:
            customer_id = app.cache.create_customer(edit.name, edit.company, edit.contacts)
        except (CacheError, ValueError) as error:  # pydantic's and the contact checks' too
            app.notify(f"Not created (what you typed is kept as a draft): {clean_line(str(error))}",
                       severity="error", markup=False)
            return
        app.cache.drafts.drop(DRAFT_KEY)
        app.outbox_changed()
        profile = app.cache.load_profile(customer_id)
        if profile is not None:
            app.index_changed(profile)
        if before_open is not None:
            before_open()
        app.open_customer(customer_id)
        app.notify(f"{clean_line(edit.name)} created. {app.saved_message()}", timeout=3,
                   markup=False)
        if app.remote is not None:
            app.action_sync()

    app.push_screen(NewCustomerForm(query, drafts=app.cache.drafts, draft_key=DRAFT_KEY), save)
