"""What the profile screen does when the agent edits the customer data pane: opens the form,
saves through the cache (the outbox), shows the result. Apart from `profile.py`, which holds
the screen's layout and its other edits."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentdesk.model.fields import COMMON
from agentdesk.model.profile_kinds import Consent
from agentdesk.ui.customer_data_rows import UNKNOWN

if TYPE_CHECKING:
    from agentdesk.model.views import StoredProfile
    from agentdesk.ui.profile import ProfileScreen

NEXT_CONSENT = {Consent.OPTED_IN: Consent.OPTED_OUT, Consent.OPTED_OUT: Consent.UNKNOWN,
                Consent.UNKNOWN: Consent.OPTED_IN}
COMMON_TYPES = {key: kind.value for key, _, kind in COMMON}


def data_edit(screen: ProfileScreen, what: str, record_id: str | None) -> None:
    """Do `what` (an action of the pane's lists, or "status_tags") on `record_id`."""
    profile, pane = screen.profile, screen.data_pane()
    if profile is None:
        return
    if what == "status_tags":  # `S`: the pane need not be open
        if not screen._refuse_if_read_only():
            _edit_status_and_tags(screen, profile)
        return
    if pane is None:
        return
    if what == "next_view":
        pane.next_view()
        return
    if what == "others":
        pane.toggle_others(record_id)
        return
    if what == "filter":
        pane.focus_filter()
        return
    if screen._refuse_if_read_only():
        return
    cache, cid, author = screen.cache, screen.customer_id, screen.desk.author
    from agentdesk.ui import profile_data_forms as forms

    if what in ("add_field", "edit_field"):
        field = pane.field(record_id) if what == "edit_field" else None
        key = (record_id or "")[len(UNKNOWN):] if (record_id or "").startswith(UNKNOWN) else ""
        if what == "add_field":
            form = forms.FieldForm()
        elif field is not None:
            form = forms.FieldForm(key=field.key, type=field.type.value, label=field.label,
                                   value=_desk_value(field))
        elif key:  # a common field no source has filled
            form = forms.FieldForm(key=key, type=COMMON_TYPES.get(key, "text"))
        else:
            return

        def save_field(edit: forms.FieldEdit | None) -> None:
            if edit is not None:
                group = "standard" if edit.key in COMMON_TYPES and field is None else edit.group
                screen._save(lambda: cache.set_field(cid, edit.key, edit.text, author=author,
                                                     type=edit.type, group=group))

        screen.app.push_screen(form, save_field)
    elif what == "remove_field":
        field = pane.field(record_id)
        if field is None:
            return
        from rich.text import Text

        from agentdesk.ui import safe
        from agentdesk.ui.forms import ConfirmScreen

        question = Text("Remove the field ")
        question.append_text(safe.line(field.label or field.key, "bold"))
        question.append(f" and its {len(field.values)} value(s), from every source?")

        def answer(yes: bool | None) -> None:
            if yes:
                screen._save(lambda: cache.remove_field(cid, field.id))

        screen.app.push_screen(ConfirmScreen(question), answer)
    elif what == "consent":
        identifier = next((i for i in profile.identifiers if i.id == record_id), None)
        if identifier is None or identifier.kind == "mobile_id":
            return
        new = NEXT_CONSENT[Consent(identifier.consent)]
        screen._save(lambda: cache.set_consent(cid, identifier.id, new.value, author=author))
        screen.profile = screen._read() or screen.profile
        screen._show_profile()
    elif what == "add_subscription":
        def save_subscription(edit: forms.SubscriptionEdit | None) -> None:
            if edit is not None:
                screen._save(lambda: cache.add_subscription(cid, edit.name, edit.kind, author=author))

        screen.app.push_screen(forms.SubscriptionForm(), save_subscription)
    elif what == "remove_subscription":
        if record_id and any(s.id == record_id for s in profile.subscriptions):
            screen._save(lambda: cache.remove_subscription(cid, record_id))
            screen.profile = screen._read() or screen.profile
            screen._show_profile()


def _desk_value(field: Any) -> Any:
    """What the form starts from: the desk's own value if it has one, else the one shown."""
    return next((v.value for v in field.values if v.source == "desk"), field.values[0].value)


def _edit_status_and_tags(screen: ProfileScreen, profile: StoredProfile) -> None:
    from agentdesk.ui import profile_data_forms as forms

    cache, cid, c = screen.cache, screen.customer_id, profile.customer

    def save_status(edit: forms.StatusEdit | None) -> None:
        if edit is not None:
            screen._save(lambda: cache.set_status_and_tags(cid, edit.status, edit.tags))

    screen.app.push_screen(forms.StatusTagsForm(c.status.value, list(c.tags)), save_status)
