"""The agent's edits of fields, identifiers' consent, subscriptions, status and tags.

Like the other edits (`cache.edits`): each becomes a mutation queued in the outbox before the
profile file shows it, and `apply_data`/`revert_data` are what one does to (and undoes on) a
profile file. A field's desk value is folded into the values the other sources gave, by the
same rule the store applies (`model.fields`), so the desk shows offline what the store will.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentdesk.cache.edits import AgentEdits
from agentdesk.cache.files import CacheError

if TYPE_CHECKING:
    from agentdesk.cache.profile_file import ProfileFile
    from agentdesk.model.protocol import Mutation


def _desk_value(field: dict[str, Any] | None) -> dict[str, Any] | None:
    return next((v for v in (field or {}).get("values", []) if v.get("source") == "desk"), None)


def _with_values(field: dict[str, Any], values: list[Any]) -> dict[str, Any] | None:
    """The field with these values, in the rule's order (None when none is left)."""
    from agentdesk.model.fields import Field

    if not values:
        return None
    return Field.model_validate({**field, "values": values}).model_dump(mode="json")


def apply_data(profile: ProfileFile, m: Mutation) -> bool:
    """Make an edit of this module's kinds on the local copy; False for another kind."""
    from agentdesk.model.protocol import MutationKind

    data = m.data
    match m.kind:
        case MutationKind.FIELD_SET:
            from agentdesk.model.fields import FieldValue, fold

            mine = FieldValue(value=data["value"], source="desk", by=data.get("by", ""),
                              at=m.made_at or data.get("at"))
            old = profile.find("fields", m.target)
            if old is None:
                shape = {k: data[k] for k in ("type", "group", "label") if k in data}
                old = {**shape, "id": m.target, "key": data["key"], "values": []}
            values = fold([FieldValue.model_validate(v) for v in old["values"]], [mine])
            profile.put("fields", _with_values(old, [v.model_dump(mode="json") for v in values]))
        case MutationKind.FIELD_REMOVE:
            profile.remove("fields", m.target)
        case MutationKind.IDENTIFIER_CONSENT:
            at = m.made_at.replace("+00:00", "Z") if m.made_at else None  # as the store writes it
            profile.update("identifiers", m.target, {**data.get("set", {}), "consent_at": at,
                                                     "consent_by": data.get("by", "")})
        case MutationKind.SUBSCRIPTION_ADD:
            profile.put("subscriptions", dict(data))
        case MutationKind.SUBSCRIPTION_REMOVE:
            profile.remove("subscriptions", m.target)
        case _:
            return False
    return True


def revert_data(profile: ProfileFile, m: Mutation) -> bool:
    """Undo an edit of this module's kinds (the store refused it); False for another kind."""
    from agentdesk.model.protocol import MutationKind

    base = m.data.get("base")
    match m.kind:
        case MutationKind.FIELD_SET:
            field = profile.find("fields", m.target)
            if field is not None:
                values = [v for v in field["values"] if v.get("source") != "desk"]
                if isinstance(base, dict) and "source" in base:
                    values.append(base)
                restored = _with_values(field, values)
                if restored is None:
                    profile.remove("fields", m.target)
                else:
                    profile.put("fields", restored)
        case MutationKind.FIELD_REMOVE | MutationKind.SUBSCRIPTION_REMOVE:
            if base:
                profile.put("fields" if m.kind == MutationKind.FIELD_REMOVE else "subscriptions",
                            dict(base))
        case MutationKind.IDENTIFIER_CONSENT:
            if base:
                profile.update("identifiers", m.target, dict(base))
        case MutationKind.SUBSCRIPTION_ADD:
            profile.remove("subscriptions", m.target)
        case _:
            return False
    return True


class ProfileDataEdits(AgentEdits):
    """Edits of fields, consent, subscriptions, status and tags, as methods of the cache."""

    def set_field(self, customer_id: str, key: str, text: str, *, author: str = "",
                  type: str | None = None, group: str = "custom", label: str = "") -> dict[str, Any]:
        """Set the desk's value of field `key` from what the agent typed (checked against the
        field's type: the existing field's, else `type`). Returns the field afterwards."""
        from agentdesk.model import mutations
        from agentdesk.model.fields import Field, field_id, parse_value
        from agentdesk.model.protocol import MutationKind

        key = key.strip()
        fid = field_id(customer_id, key)

        def build(profile: ProfileFile) -> list[Mutation]:
            old = profile.find("fields", fid)
            kind = (old or {}).get("type") or type or "text"
            try:
                value = parse_value(kind, text)
                Field.model_validate({"id": fid, "key": key, "type": kind, "group": group,
                                      "values": [{"value": value, "source": "desk",
                                                  "at": "2026-01-01T00:00:00Z"}]})
            except ValueError as error:
                raise CacheError(_first(error)) from None
            data: dict[str, Any] = {"key": key, "value": value, "by": author,
                                    "base": _desk_value(old)}
            if old is None:
                data.update(type=kind, group=group, label=label)
            return [mutations.make(MutationKind.FIELD_SET, customer_id, fid, data,
                                   profile.revision_of("field", fid))]

        tables = self._edit(customer_id, build)
        from agentdesk.cache.profile_file import docs

        return next(d for d in docs(tables, "fields") if d["id"] == fid)

    def remove_field(self, customer_id: str, field_id: str) -> None:
        from agentdesk.model import mutations
        from agentdesk.model.protocol import MutationKind

        def build(profile: ProfileFile) -> list[Mutation]:
            old = profile.find("fields", field_id)
            if old is None:
                raise CacheError("That field is no longer there.")
            return [mutations.make(MutationKind.FIELD_REMOVE, customer_id, field_id,
                                   {"base": old}, profile.revision_of("field", field_id))]

        self._edit(customer_id, build)

    def set_consent(self, customer_id: str, identifier_id: str, consent: str, *,
                    author: str = "") -> None:
        from agentdesk.model import mutations
        from agentdesk.model.profile_kinds import Consent
        from agentdesk.model.protocol import MutationKind

        if consent not in {c.value for c in Consent}:
            raise CacheError(f"Unknown consent {consent[:30]!r}.")

        def build(profile: ProfileFile) -> list[Mutation]:
            old = profile.find("identifiers", identifier_id)
            if old is None:
                raise CacheError("That identifier is no longer there.")
            if old.get("consent") == consent:
                return []
            return [mutations.make(
                MutationKind.IDENTIFIER_CONSENT, customer_id, identifier_id,
                {"set": {"consent": consent}, "base": {"consent": old.get("consent", "unknown")},
                 "by": author}, profile.revision_of("identifier", identifier_id))]

        self._edit(customer_id, build)

    def add_subscription(self, customer_id: str, name: str, kind: str = "list", *,
                         author: str = "") -> dict[str, Any]:
        from agentdesk.model import mutations
        from agentdesk.model.identifiers import Subscription
        from agentdesk.model.protocol import MutationKind
        from agentdesk.model.records import utcnow

        try:
            sub = Subscription(name=name.strip(), kind=kind, subscribed_at=utcnow(), by=author)
        except ValueError as error:
            raise CacheError(_first(error)) from None
        doc = sub.model_dump(mode="json")

        def build(profile: ProfileFile) -> list[Mutation]:
            if any(s.get("name", "").casefold() == sub.name.casefold() and s.get("kind") == kind
                   for s in profile.all("subscriptions")):
                raise CacheError(f"Already subscribed to {sub.name}.")
            return [mutations.make(MutationKind.SUBSCRIPTION_ADD, customer_id, sub.id, doc, None)]

        self._edit(customer_id, build)
        return doc

    def remove_subscription(self, customer_id: str, subscription_id: str) -> None:
        from agentdesk.model import mutations
        from agentdesk.model.protocol import MutationKind

        def build(profile: ProfileFile) -> list[Mutation]:
            old = profile.find("subscriptions", subscription_id)
            if old is None:
                raise CacheError("That subscription is no longer there.")
            return [mutations.make(MutationKind.SUBSCRIPTION_REMOVE, customer_id, subscription_id,
                                   {"base": old}, profile.revision_of("subscription", subscription_id))]

        self._edit(customer_id, build)

    def set_status_and_tags(self, customer_id: str, status: str, tags: list[str]) -> None:
        """The customer's status and tags (a `customer.update` of just those)."""
        from agentdesk.model import mutations
        from agentdesk.model.protocol import MutationKind
        from agentdesk.model.records import Customer

        def build(profile: ProfileFile) -> list[Mutation]:
            old = profile.customer() or {}
            clean = list(dict.fromkeys(t.strip() for t in tags if t.strip()))
            try:
                Customer.model_validate({**old, "status": status, "tags": clean})
            except ValueError as error:
                raise CacheError(_first(error)) from None
            changed = {k: v for k, v in (("status", status), ("tags", clean)) if old.get(k) != v}
            if not changed:
                return []
            return [mutations.make(MutationKind.CUSTOMER_UPDATE, customer_id, customer_id,
                                   {"set": changed, "base": {k: old.get(k) for k in changed}},
                                   profile.revision_of("customer", customer_id))]

        self._edit(customer_id, build)


def _first(error: ValueError) -> str:
    """A validation error's first message, without pydantic's decorations."""
    from pydantic import ValidationError

    if isinstance(error, ValidationError):
        first = error.errors()[0]
        ctx = first.get("ctx") or {}
        return str(ctx.get("error") or first.get("msg", "invalid")).removeprefix("Value error, ")
    return str(error)
