"""The closed vocabularies of what the platforms know about a customer beyond its contact
points (fields, identifiers, subscriptions), without pydantic: the desk draws with them before
it loads the models, as it does with `agentdesk.model.kinds`."""

from __future__ import annotations

from enum import StrEnum


class FieldType(StrEnum):
    """What a field's value is: each value of a field is checked against its type."""

    TEXT = "text"
    NUMBER = "number"
    DATE = "date"  # an ISO 8601 day, "2024-06-01"
    BOOLEAN = "boolean"
    LIST = "list"  # a list of short texts


class FieldGroup(StrEnum):
    """Where a field belongs. Properties whose key starts with "company." are shown as the
    customer's company whatever their group (see `fields.shown_group`)."""

    STANDARD = "standard"  # name, birth year, gender, time zone, language, address...
    CUSTOM = "custom"  # fields the business added (from a CRM...)
    THIRD_PARTY = "third_party"  # fields an integration defines
    PROPERTY = "property"  # persona, billing, product usage, cohort...
    FIGURES = "figures"  # the header's figures: NPS, orders, predictions


class FieldSource(StrEnum):
    """Where a value came from, highest priority first (see `fields.rank`)."""

    DESK = "desk"  # entered in the desk (or imported by an agent)
    API = "api"  # sent through the store's API
    INTEGRATION = "integration"  # synced from an integration, named by `integration`


class IdentifierKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    PUSH_TOKEN = "push_token"
    MOBILE_ID = "mobile_id"


# Identifiers a campaign can be sent to (a mobile id only names a device).
MESSAGING = frozenset({IdentifierKind.EMAIL, IdentifierKind.PHONE, IdentifierKind.PUSH_TOKEN})


class Consent(StrEnum):
    """The customer's willingness to receive marketing on one identifier."""

    OPTED_IN = "opted_in"
    OPTED_OUT = "opted_out"
    UNKNOWN = "unknown"  # neither was received ("implicit consent")


class SubscriptionKind(StrEnum):
    LIST = "list"  # a mailing list
    CATEGORY = "category"  # a subscription category used for campaign segmentation
