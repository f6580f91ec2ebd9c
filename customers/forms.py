"""Forms of the agent UI: shapes and types only; the services in customers.services.records decide the rest.

A service's ``ApplicationError(code, message, field=...)`` is put back on the form field it names
with ``form_add_application_error``, so the agent reads the exact reason next to what they typed.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from crm.errors import ApplicationError
from customers.choices import (
    Channel,
    ConsentStatus,
    ContactKind,
    CustomerKind,
    PreferredChannel,
    Purpose,
    Stage,
    Title,
)
from customers.models import AttributeDefinition, SavedFilter
from customers.services.records import AddressInput

ATTRIBUTE_PREFIX = "attr_"
# Codes whose field the service cannot know (it validates a value, not a form field).
CODE_FIELDS = {"invalid_email": "email", "invalid_phone": "phone"}


def form_add_application_error(form: forms.Form, error: ApplicationError, *, aliases: dict | None = None) -> None:
    """Show a service's refusal next to the field it concerns (or above the form when none matches)."""
    name = error.field or ""
    if name.startswith("attributes."):
        name = ATTRIBUTE_PREFIX + name.split(".", 1)[1]
    name = (aliases or {}).get(name, name)
    if name not in form.fields:
        name = CODE_FIELDS.get(error.code, name)
    form.add_error(name if name in form.fields else None, error.message)


def _owner_choices():
    return get_user_model().objects.filter(is_active=True, groups__isnull=False).distinct().order_by("username")


def _tags_parse(text: str) -> list[str]:
    return [tag.strip() for tag in (text or "").split(",") if tag.strip()]


class AttributeFieldsMixin:
    """One form field per custom attribute definition, named ``attr_<key>``."""

    def add_attribute_fields(self, initial: dict | None = None) -> None:
        initial = initial or {}
        self.attribute_definitions = list(AttributeDefinition.objects.all())
        for definition in self.attribute_definitions:
            name = ATTRIBUTE_PREFIX + definition.key
            kind = AttributeDefinition.Type
            common = {"label": definition.display_label, "required": False, "initial": initial.get(definition.key)}
            if definition.type == kind.NUMBER:
                field = forms.DecimalField(**common)
            elif definition.type == kind.DATE:
                field = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
            elif definition.type == kind.BOOLEAN:
                field = forms.NullBooleanField(**common)
            elif definition.type == kind.CHOICE:
                field = forms.ChoiceField(choices=[("", "—"), *((c, c) for c in definition.choices)], **common)
            else:
                field = forms.CharField(max_length=500, **common)
            self.fields[name] = field

    def attribute_values(self) -> dict:
        values = {}
        for definition in self.attribute_definitions:
            value = self.cleaned_data.get(ATTRIBUTE_PREFIX + definition.key)
            if value not in (None, ""):
                values[definition.key] = str(value) if not isinstance(value, bool) else value
        return values


class CustomerIdentityForm(AttributeFieldsMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=CustomerKind.choices, initial=CustomerKind.PERSON)
    title = forms.ChoiceField(label=_("Title"), choices=Title.choices, required=False)
    given_name = forms.CharField(label=_("Given name"), max_length=100, required=False)
    family_name = forms.CharField(label=_("Family name"), max_length=100, required=False)
    company_name = forms.CharField(label=_("Company"), max_length=200, required=False)
    birth_date = forms.DateField(label=_("Birth date"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    language = forms.ChoiceField(label=_("Language"), choices=[("fr", _("French")), ("en", _("English"))])
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=_owner_choices(), required=False)
    preferred_channel = forms.ChoiceField(label=_("Preferred channel"), choices=PreferredChannel.choices,
                                          required=False)  # fmt: skip
    tags = forms.CharField(label=_("Tags"), required=False, max_length=1000,
                           help_text=_("Separate tags with commas, e.g. vip, newsletter"))  # fmt: skip
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, attributes: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _owner_choices()
        self.add_attribute_fields(attributes)

    def identity_values(self) -> dict:
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "title": data.get("title") or "",
            "given_name": data.get("given_name") or "",
            "family_name": data.get("family_name") or "",
            "company_name": data.get("company_name") or "",
            "birth_date": data.get("birth_date"),
            "language": data["language"],
            "owner": data.get("owner"),
            "preferred_channel": data.get("preferred_channel") or "",
            "tags": _tags_parse(data.get("tags", "")),
            "notes": data.get("notes") or "",
            "attributes": self.attribute_values(),
        }


class AddressFieldsMixin:
    def address_input(self, *, is_primary: bool = True) -> AddressInput:
        data = self.cleaned_data
        return AddressInput(
            line1=data.get("line1") or "",
            line2=data.get("line2") or "",
            line3=data.get("line3") or "",
            line4=data.get("line4") or "",
            line5=data.get("line5") or "",
            postcode=data.get("postcode") or "",
            city=data.get("city") or "",
            country=(data.get("country") or "FR").upper(),
            is_primary=data.get("is_primary", is_primary),
            valid_from=data.get("valid_from"),
        )


def _line(label):
    # No max_length here: the service says "Address line 4 has 41 characters; the postal standard allows 38".
    return forms.CharField(label=label, required=False, max_length=200)


class CustomerCreateForm(AddressFieldsMixin, CustomerIdentityForm):
    stage = forms.ChoiceField(label=_("Stage"), choices=Stage.choices, initial=Stage.PROSPECT)
    email = forms.CharField(label=_("Email"), required=False, max_length=254)
    phone = forms.CharField(label=_("Phone"), required=False, max_length=40,
                            help_text=_("Any format: 06 12 34 56 78, +33 6 12 34 56 78, 0033…"))  # fmt: skip
    line2 = _line(_("Apartment, floor (line 2)"))
    line3 = _line(_("Building (line 3)"))
    line4 = _line(_("Number and street (line 4)"))
    line5 = _line(_("Locality, PO box (line 5)"))
    postcode = forms.CharField(label=_("Postcode"), required=False, max_length=12)
    city = forms.CharField(label=_("City"), required=False, max_length=100)
    country = forms.CharField(label=_("Country"), required=False, max_length=2, initial="FR")

    def has_address(self) -> bool:
        data = self.cleaned_data
        return any(data.get(name) for name in ("line2", "line3", "line4", "line5", "postcode", "city"))


class CustomerEditForm(CustomerIdentityForm):
    pass


class ContactPointForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=ContactKind.choices)
    value = forms.CharField(label=_("Email, number or handle"), max_length=254)
    label = forms.CharField(label=_("Label"), max_length=30, required=False, help_text=_("e.g. home, work"))
    is_primary = forms.BooleanField(label=_("Make it the primary one of its kind"), required=False)


class AddressForm(AddressFieldsMixin, forms.Form):
    line1 = _line(_("Recipient (line 1)"))
    line2 = _line(_("Apartment, floor (line 2)"))
    line3 = _line(_("Building (line 3)"))
    line4 = _line(_("Number and street (line 4)"))
    line5 = _line(_("Locality, PO box (line 5)"))
    postcode = forms.CharField(label=_("Postcode"), required=False, max_length=12)
    city = forms.CharField(label=_("City"), max_length=100)
    country = forms.CharField(label=_("Country"), max_length=2, initial="FR", help_text=_("Two letters, e.g. FR"))
    valid_from = forms.DateField(label=_("Valid from"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    is_primary = forms.BooleanField(label=_("Primary address"), required=False, initial=True)


class StageForm(forms.Form):
    stage = forms.ChoiceField(label=_("Stage"), choices=Stage.choices)


class ConsentForm(forms.Form):
    """A consent given or withdrawn by the customer, as they told the agent; the proof is required."""

    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    purpose = forms.ChoiceField(label=_("Purpose"), choices=Purpose.choices, initial=Purpose.MARKETING)
    status = forms.ChoiceField(label=_("Answer"), choices=ConsentStatus.choices, widget=forms.RadioSelect)
    proof_text = forms.CharField(
        label=_("What the customer was told"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The exact sentence read or shown to the customer; it is kept as proof of their answer."),
    )


class SavedFilterForm(forms.ModelForm):
    class Meta:
        model = SavedFilter
        fields = ["name", "is_shared"]
