"""Forms of the contact and account pages.

The forms only collect and shape input (``to_data`` returns what ``parties.services`` take);
every rule is checked by the service, whose ``ValidationFailed.field_errors`` are mapped back
onto these fields by ``field_map``. Emails, phones and addresses are simple repeatable rows:
the existing ones plus ``BLANK_ROWS`` empty ones.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Model
from django.utils.translation import gettext_lazy as _

from rapport.core.choices import CustomFieldType
from rapport.core.custom_fields import custom_field_definitions
from rapport.core.models import CustomFieldDefinition, User
from rapport.parties.choices import (
    AddressKind,
    Channel,
    CompanySize,
    EmailKind,
    Industry,
    LifecycleStage,
    PhoneKind,
    Tier,
)
from rapport.parties.models import Account, Contact
from rapport.parties.selectors import account_queryset, contact_queryset

BLANK_ROWS = 3
CHOICE_LIMIT = 300
ADDRESS_PARTS = ("street", "city", "region", "postal_code", "country")
_ADDRESS_LABELS = {
    "street": _("Street"),
    "city": _("City"),
    "region": _("Region"),
    "postal_code": _("Postal code"),
    "country": _("Country (ISO code)"),
}
EMPTY = [("", "—")]


def user_choices() -> list[tuple[str, str]]:
    users = User.objects.filter(is_active=True).only("id", "username", "first_name", "last_name")
    return [(str(u.pk), str(u)) for u in users.order_by("first_name", "last_name", "username")[:CHOICE_LIMIT]]


def custom_form_field(definition: CustomFieldDefinition) -> forms.Field:
    label = definition.label
    kind = definition.field_type
    if kind == CustomFieldType.CHOICE:
        return forms.ChoiceField(
            label=label, required=False, choices=EMPTY + [(str(c), str(c)) for c in definition.choices]
        )
    if kind == CustomFieldType.BOOLEAN:
        return forms.ChoiceField(
            label=label, required=False, choices=[("", "—"), ("true", _("Yes")), ("false", _("No"))]
        )
    if kind == CustomFieldType.NUMBER:
        return forms.CharField(label=label, required=False, widget=forms.NumberInput(attrs={"step": "any"}))
    if kind == CustomFieldType.DATE:
        return forms.CharField(label=label, required=False, widget=forms.DateInput(attrs={"type": "date"}))
    return forms.CharField(label=label, required=False, max_length=1000)


def custom_initial(definition: CustomFieldDefinition, value: Any) -> Any:
    if value is None:
        return ""
    if definition.field_type == CustomFieldType.BOOLEAN:
        return "true" if value else "false"
    return value


class PartyForm(forms.Form):
    """What contact and account forms share: owner, tags, custom fields, addresses, version."""

    model: type[Model] = Contact
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, actor: User, instance: Model | None = None, **kwargs: Any) -> None:
        self.actor = actor
        self.instance = instance
        initial = kwargs.pop("initial", None) or {}
        if instance is not None:
            initial = {**self.initial_from(instance), **initial}
        else:
            initial = {"owner": str(actor.pk), **initial}
        super().__init__(*args, initial=initial, **kwargs)
        self.field_map: dict[str, str] = {"owner_id": "owner", "team_id": "owner"}
        owners = EMPTY + user_choices()
        current_owner = getattr(instance, "owner", None)
        if current_owner is not None and str(current_owner.pk) not in dict(owners):
            owners.append((str(current_owner.pk), str(current_owner)))
        self.fields["owner"] = forms.ChoiceField(label=_("Owner"), required=False, choices=owners)
        self.fields["tags"] = forms.CharField(
            label=_("Tags"), required=False, help_text=_("Separate tags with commas.")
        )
        self.custom_definitions = custom_field_definitions(self.model)
        custom = getattr(instance, "custom", None) or {}
        for definition in self.custom_definitions:
            name = f"cf_{definition.key}"
            self.fields[name] = custom_form_field(definition)
            if definition.required:
                self.fields[name].widget.attrs["aria-required"] = "true"
            self.initial.setdefault(name, custom_initial(definition, custom.get(definition.key)))
            self.field_map[f"custom.{definition.key}"] = name
        addresses = list(instance.addresses.all()) if instance is not None and instance.pk else []
        self.address_count = self._row_count("addr", "street", len(addresses), args)
        for i in range(self.address_count):
            self.fields[f"addr_{i}_kind"] = forms.ChoiceField(
                label=_("Kind"), choices=AddressKind.choices, required=False
            )
            for part in ADDRESS_PARTS:
                self.fields[f"addr_{i}_{part}"] = forms.CharField(
                    label=_ADDRESS_LABELS[part], required=False, max_length=300
                )
            if i < len(addresses):
                address = addresses[i]
                self.initial[f"addr_{i}_kind"] = address.kind
                for part in ADDRESS_PARTS:
                    self.initial[f"addr_{i}_{part}"] = getattr(address, part)

    # -- helpers ---------------------------------------------------------------------------------

    def _row_count(self, prefix: str, key: str, existing: int, args: tuple[Any, ...]) -> int:
        """Rows to show: existing + blanks, or as many as were submitted."""
        count = existing + BLANK_ROWS
        data = args[0] if args else None
        if data is not None:
            submitted = 0
            while f"{prefix}_{submitted}_{key}" in data or f"{prefix}_{submitted}" in data:
                submitted += 1
            count = max(submitted, BLANK_ROWS)
        return count

    def initial_from(self, instance: Any) -> dict[str, Any]:
        return {
            "version": instance.version,
            "owner": str(instance.owner_id or ""),
            "tags": ", ".join(t.name for t in instance.tags.all()),
        }

    def rows(self, prefix: str, parts: tuple[str, ...], count: int) -> list[list[forms.BoundField]]:
        return [[self[f"{prefix}_{i}{part}"] for part in parts] for i in range(count)]

    @property
    def address_rows(self) -> list[list[forms.BoundField]]:
        return self.rows("addr", tuple(f"_{p}" for p in ("kind", *ADDRESS_PARTS)), self.address_count)

    @property
    def custom_fields(self) -> list[forms.BoundField]:
        return [self[f"cf_{d.key}"] for d in self.custom_definitions]

    def common_data(self) -> dict[str, Any]:
        cd = self.cleaned_data
        addresses = []
        for i in range(self.address_count):
            row = {part: cd.get(f"addr_{i}_{part}") or "" for part in ADDRESS_PARTS}
            if not any(row.values()):
                continue
            row["kind"] = cd.get(f"addr_{i}_kind") or AddressKind.WORK
            self.field_map[f"addresses.{len(addresses)}"] = f"addr_{i}_street"
            self.field_map[f"addresses.{len(addresses)}.country"] = f"addr_{i}_country"
            self.field_map[f"addresses.{len(addresses)}.kind"] = f"addr_{i}_kind"
            addresses.append(row)
        return {
            "owner_id": int(cd["owner"]) if cd.get("owner") else None,
            "tags": [t.strip() for t in (cd.get("tags") or "").split(",") if t.strip()],
            "custom": {d.key: cd.get(f"cf_{d.key}") for d in self.custom_definitions},
            "addresses": addresses,
        }


def _choices_with_current(rows: list[tuple[Any, Any]], current: Any) -> list[tuple[str, str]]:
    choices = EMPTY + [(str(pk), str(label)) for pk, label in rows]
    if current is not None and str(current.pk) not in {c[0] for c in choices}:
        choices.append((str(current.pk), str(current)))
    return choices


class ContactForm(PartyForm):
    model = Contact

    first_name = forms.CharField(label=_("First name"), max_length=100, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=100, required=False)
    title = forms.CharField(label=_("Job title"), max_length=150, required=False)
    account_role = forms.CharField(label=_("Role at the account"), max_length=100, required=False)
    lifecycle_stage = forms.ChoiceField(
        label=_("Lifecycle stage"), choices=LifecycleStage.choices, initial=LifecycleStage.PROSPECT
    )
    source = forms.CharField(label=_("Source"), max_length=50, required=False)
    preferred_channel = forms.ChoiceField(label=_("Preferred channel"), choices=EMPTY + Channel.choices, required=False)
    birthday = forms.DateField(label=_("Birthday"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    language = forms.CharField(label=_("Language"), max_length=10, required=False)
    time_zone = forms.CharField(label=_("Time zone"), max_length=64, required=False)
    external_id = forms.CharField(label=_("External id"), max_length=100, required=False)

    SCALARS = (
        "first_name",
        "last_name",
        "title",
        "lifecycle_stage",
        "source",
        "preferred_channel",
        "birthday",
        "language",
        "time_zone",
        "external_id",
    )

    def __init__(self, *args: Any, actor: User, instance: Contact | None = None, **kwargs: Any) -> None:
        super().__init__(*args, actor=actor, instance=instance, **kwargs)
        self.field_map.update({"account_id": "account", "reports_to_id": "reports_to", "account_role": "account_role"})
        accounts = account_queryset(actor=actor).order_by("name").values_list("id", "name")[:CHOICE_LIMIT]
        current_account = instance.account if instance is not None and instance.account_id else None
        self.fields["account"] = forms.ChoiceField(
            label=_("Account"), required=False, choices=_choices_with_current(list(accounts), current_account)
        )
        colleagues = contact_queryset(actor=actor).order_by("last_name", "first_name")
        if current_account is not None:
            colleagues = colleagues.filter(account_id=current_account.pk)
        if instance is not None and instance.pk:
            colleagues = colleagues.exclude(pk=instance.pk)
        boss = instance.reports_to if instance is not None and instance.reports_to_id else None
        self.fields["reports_to"] = forms.ChoiceField(
            label=_("Reports to"),
            required=False,
            choices=_choices_with_current(
                [(c.pk, str(c)) for c in colleagues.only("id", "first_name", "last_name", "email")[:CHOICE_LIMIT]],
                boss,
            ),
        )
        saved = instance is not None and instance.pk
        rows = (
            (
                "email",
                _("Email"),
                list(instance.emails.all()) if saved else [],
                "email",
                EmailKind.choices,
                forms.EmailInput,
                254,
            ),
            (
                "phone",
                _("Phone"),
                list(instance.phones.all()) if saved else [],
                "number",
                PhoneKind.choices,
                forms.TextInput(attrs={"type": "tel"}),
                40,
            ),
        )
        for prefix, label, existing, value_attr, kinds, widget, max_length in rows:
            count = self._row_count(prefix, "", len(existing), args)
            setattr(self, f"{prefix}_count", count)
            for i in range(count):
                self.fields[f"{prefix}_{i}"] = forms.CharField(
                    label=label, required=False, max_length=max_length, widget=widget
                )
                self.fields[f"{prefix}_{i}_kind"] = forms.ChoiceField(label=_("Kind"), choices=kinds, required=False)
                self.fields[f"{prefix}_{i}_primary"] = forms.BooleanField(label=_("Primary"), required=False)
                if i < len(existing):
                    self.initial.update(
                        {
                            f"{prefix}_{i}": getattr(existing[i], value_attr),
                            f"{prefix}_{i}_kind": existing[i].kind,
                            f"{prefix}_{i}_primary": existing[i].is_primary,
                        }
                    )

    def initial_from(self, instance: Any) -> dict[str, Any]:
        initial = super().initial_from(instance)
        for name in self.SCALARS:
            initial[name] = getattr(instance, name)
        initial["account"] = str(instance.account_id or "")
        initial["reports_to"] = str(instance.reports_to_id or "")
        membership = (
            instance.memberships.filter(account_id=instance.account_id).first() if instance.account_id else None
        )
        initial["account_role"] = membership.role if membership else ""
        return initial

    @property
    def main_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("first_name", "last_name", "title", "lifecycle_stage")]

    @property
    def link_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("account", "account_role", "reports_to", "owner", "tags")]

    @property
    def more_fields(self) -> list[forms.BoundField]:
        names = ("source", "preferred_channel", "birthday", "language", "time_zone", "external_id")
        return [self[name] for name in names]

    @property
    def email_rows(self) -> list[list[forms.BoundField]]:
        return self.rows("email", ("", "_kind", "_primary"), self.email_count)

    @property
    def phone_rows(self) -> list[list[forms.BoundField]]:
        return self.rows("phone", ("", "_kind", "_primary"), self.phone_count)

    def to_data(self) -> dict[str, Any]:
        cd = self.cleaned_data
        data = {name: cd.get(name) for name in self.SCALARS}
        data["preferred_channel"] = data["preferred_channel"] or ""
        data["birthday"] = cd.get("birthday")
        data.update(self.common_data())
        data["account_id"] = int(cd["account"]) if cd.get("account") else None
        data["account_role"] = cd.get("account_role") or ""
        data["reports_to_id"] = int(cd["reports_to"]) if cd.get("reports_to") else None
        for prefix, key, plural in (("email", "email", "emails"), ("phone", "number", "phones")):
            items = []
            for i in range(getattr(self, f"{prefix}_count")):
                value = (cd.get(f"{prefix}_{i}") or "").strip()
                if not value:
                    continue
                self.field_map[f"{plural}.{len(items)}"] = f"{prefix}_{i}"
                self.field_map[f"{plural}.{len(items)}.kind"] = f"{prefix}_{i}_kind"
                items.append(
                    {
                        key: value,
                        "kind": cd.get(f"{prefix}_{i}_kind") or "",
                        "is_primary": cd.get(f"{prefix}_{i}_primary"),
                    }
                )
            data[plural] = items
        return data


class AccountForm(PartyForm):
    model = Account

    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    website = forms.CharField(label=_("Website"), max_length=300, required=False)
    domain = forms.CharField(label=_("Domain"), max_length=253, required=False)
    industry = forms.ChoiceField(label=_("Industry"), choices=EMPTY + Industry.choices, required=False)
    size = forms.ChoiceField(label=_("Size"), choices=EMPTY + CompanySize.choices, required=False)
    tier = forms.ChoiceField(label=_("Tier"), choices=EMPTY + Tier.choices, required=False)
    annual_revenue = forms.CharField(
        label=_("Annual revenue"), required=False, widget=forms.NumberInput(attrs={"step": "0.01", "min": "0"})
    )
    currency = forms.CharField(label=_("Currency"), max_length=3, required=False)
    phone = forms.CharField(
        label=_("Phone"), max_length=40, required=False, widget=forms.TextInput(attrs={"type": "tel"})
    )
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    external_id = forms.CharField(label=_("External id"), max_length=100, required=False)

    SCALARS = (
        "name",
        "website",
        "domain",
        "industry",
        "size",
        "tier",
        "annual_revenue",
        "currency",
        "phone",
        "description",
        "external_id",
    )

    def __init__(self, *args: Any, actor: User, instance: Account | None = None, **kwargs: Any) -> None:
        super().__init__(*args, actor=actor, instance=instance, **kwargs)
        self.fields["name"].widget.attrs["aria-required"] = "true"
        self.field_map["parent_id"] = "parent"
        parents = account_queryset(actor=actor).order_by("name")
        if instance is not None and instance.pk:
            parents = parents.exclude(pk=instance.pk)
        current = instance.parent if instance is not None and instance.parent_id else None
        self.fields["parent"] = forms.ChoiceField(
            label=_("Parent account"),
            required=False,
            choices=_choices_with_current(list(parents.values_list("id", "name")[:CHOICE_LIMIT]), current),
        )
        if instance is None:
            self.initial.setdefault("currency", "")

    def initial_from(self, instance: Any) -> dict[str, Any]:
        initial = super().initial_from(instance)
        for name in self.SCALARS:
            value = getattr(instance, name)
            initial[name] = "" if value is None else value
        initial["parent"] = str(instance.parent_id or "")
        return initial

    @property
    def main_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in ("name", "website", "domain", "industry", "size", "tier")]

    @property
    def link_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in ("parent", "owner", "tags")]

    @property
    def more_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in ("annual_revenue", "currency", "phone", "external_id", "description")]

    def to_data(self) -> dict[str, Any]:
        cd = self.cleaned_data
        data: dict[str, Any] = {name: cd.get(name) or "" for name in self.SCALARS}
        data["annual_revenue"] = cd.get("annual_revenue") or None
        if not data["currency"]:
            data.pop("currency")
        data.update(self.common_data())
        data["parent_id"] = int(cd["parent"]) if cd.get("parent") else None
        return data


class BulkForm(forms.Form):
    ACTIONS = (("assign", _("Assign to owner")), ("tag", _("Add tag")), ("delete", _("Delete")))
    action = forms.ChoiceField(choices=ACTIONS)
    owner = forms.IntegerField(required=False)
    tag = forms.CharField(required=False, max_length=50)


class SavedViewForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    query = forms.CharField(required=False, max_length=2000)
    is_shared = forms.BooleanField(label=_("Shared with everyone"), required=False)
