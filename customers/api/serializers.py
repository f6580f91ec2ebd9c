"""Serializers of the customer record API: input ones check shape and types, output ones shape answers.

No serializer writes: views pass validated input to ``customers.services``. Input serializers run the
same normalisation the services use (``customers.normalise``, ``records.address_lines``), so a bad
phone or an over-long AFNOR line is reported under its dotted field path (``phones.1``,
``addresses.0.line4``) before anything is written.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from crm.api.fields import DateTimeField
from crm.api.serializers import ModelSerializer
from crm.errors import ApplicationError
from customers.choices import (
    Channel,
    ConsentSource,
    ConsentStatus,
    ContactKind,
    CustomerKind,
    PreferredChannel,
    Purpose,
    Stage,
    Title,
)
from customers.models import Consent, ContactPoint, Customer, PostalAddress
from customers.services import records

CONSENT_EARLIEST, CONSENT_CLOCK_SKEW = records.CONSENT_EARLIEST, records.CONSENT_CLOCK_SKEW  # one rule, in the service


def validation_error(error: ApplicationError, *, field: str | None = None) -> serializers.ValidationError:
    """An ``ApplicationError`` from a normaliser as a serializer error, under ``field`` (or its own)."""
    name = field or error.field or "non_field_errors"
    return serializers.ValidationError({name: [ErrorDetail(error.message, code=error.code)]})


# --- output -----------------------------------------------------------------------------------------------


class ContactPointOutputSerializer(ModelSerializer):
    class Meta:
        model = ContactPoint
        fields = [
            "id",
            "kind",
            "value",
            "raw_value",
            "label",
            "social_network",
            "is_primary",
            "is_verified",
            "is_undeliverable",
            "undeliverable_reason",
            "undeliverable_at",
            "created_at",
        ]
        read_only_fields = fields


class AddressOutputSerializer(ModelSerializer):
    class Meta:
        model = PostalAddress
        fields = [
            "id",
            "line1",
            "line2",
            "line3",
            "line4",
            "line5",
            "line6",
            "postcode",
            "city",
            "country",
            "is_primary",
            "valid_from",
            "valid_to",
            "is_undeliverable",
        ]
        read_only_fields = fields


class ExternalIdOutputSerializer(serializers.Serializer):
    source = serializers.CharField()
    value = serializers.CharField()


class CustomerOutputSerializer(ModelSerializer):
    """A customer as the API returns it; expects ``contact_points``, ``addresses`` and ``external_ids``
    prefetched (``customers.api.customers.customer_queryset``)."""

    owner = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text=_("Id of the owning agent, or null.")
    )
    merged_into = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text=_("The surviving customer's id when this one was merged away.")
    )
    display_name = serializers.CharField(read_only=True)
    email = serializers.SerializerMethodField(help_text=_("The primary email address, normalised."))
    phone = serializers.SerializerMethodField(help_text=_("The primary phone or mobile number, in E.164."))
    addresses = AddressOutputSerializer(many=True, read_only=True)
    external_ids = ExternalIdOutputSerializer(many=True, read_only=True)

    class Meta:
        model = Customer
        fields = [
            "id",
            "account_number",
            "kind",
            "title",
            "given_name",
            "family_name",
            "company_name",
            "display_name",
            "birth_date",
            "language",
            "stage",
            "stage_entered_at",
            "owner",
            "preferred_channel",
            "tags",
            "attributes",
            "email",
            "phone",
            "addresses",
            "external_ids",
            "merged_into",
            "anonymised_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def _primary(self, customer: Customer, kinds: tuple[str, ...]) -> str | None:
        points = [point for point in customer.contact_points.all() if point.kind in kinds]
        points.sort(key=lambda point: (not point.is_primary, point.kind != kinds[0], point.pk))
        return points[0].value if points else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_email(self, customer: Customer) -> str | None:
        return self._primary(customer, (ContactKind.EMAIL,))

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_phone(self, customer: Customer) -> str | None:
        return self._primary(customer, (ContactKind.MOBILE, ContactKind.PHONE))


class ConsentOutputSerializer(ModelSerializer):
    agent = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text=_("The staff member who recorded it (null: none, e.g. the portal).")
    )

    class Meta:
        model = Consent
        fields = [
            "id",
            "channel",
            "purpose",
            "status",
            "source",
            "occurred_at",
            "recorded_at",
            "proof_text",
            "ip_address",
            "user_agent",
            "agent",
        ]
        read_only_fields = fields


class ConsentStateSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices)
    purpose = serializers.ChoiceField(choices=Purpose.choices)
    status = serializers.ChoiceField(
        choices=ConsentStatus.choices, allow_null=True, help_text=_("null: never asked (no entry in the ledger).")
    )
    occurred_at = DateTimeField(allow_null=True)
    source = serializers.CharField(allow_null=True)


class ConsentsOutputSerializer(serializers.Serializer):
    effective = ConsentStateSerializer(
        many=True, help_text=_("The state in force for every channel and purpose: the latest ledger entry.")
    )
    ledger = ConsentOutputSerializer(many=True, help_text=_("Every entry, newest first. Entries are never edited."))


class MergedErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField(help_text=_("Always 'merged'."))
    message = serializers.CharField()
    status = serializers.IntegerField()
    survivor = serializers.IntegerField(help_text=_("Id of the customer this one was merged into."))


class MergedErrorSerializer(serializers.Serializer):
    error = MergedErrorBodySerializer()


# --- input ------------------------------------------------------------------------------------------------


class AddressInputSerializer(serializers.Serializer):
    """An address; lines are checked against AFNOR NF Z10-011 (38 characters, no end punctuation)."""

    line1 = serializers.CharField(
        required=False, allow_blank=True, default="", help_text=_("Recipient; defaults to the customer's name.")
    )
    line2 = serializers.CharField(required=False, allow_blank=True, default="")
    line3 = serializers.CharField(required=False, allow_blank=True, default="")
    line4 = serializers.CharField(required=False, allow_blank=True, default="", help_text=_("Number and street."))
    line5 = serializers.CharField(required=False, allow_blank=True, default="")
    postcode = serializers.CharField(required=False, allow_blank=True, default="")
    city = serializers.CharField()
    country = serializers.CharField(required=False, default="FR", help_text=_("ISO 3166 two-letter code."))
    is_primary = serializers.BooleanField(required=False, default=True)
    valid_from = serializers.DateField(required=False, allow_null=True, default=None)

    def validate(self, attrs: dict) -> records.AddressInput:
        address = records.AddressInput(**attrs)
        # The recipient line is checked against a stand-in customer: no database access here.
        try:
            records.address_lines(customer=Customer(family_name="X"), data=address)
        except ApplicationError as error:
            raise validation_error(error) from None
        return address


class _ContactListField(serializers.ListField):
    kind = ContactKind.EMAIL

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        errors = {}
        for index, value in enumerate(values):
            try:
                records.contact_value_normalise(self.kind, value)
            except ApplicationError as error:
                errors[index] = [ErrorDetail(error.message, code=error.code)]
        if errors:
            raise serializers.ValidationError(errors)
        return values


class EmailListField(_ContactListField):
    kind = ContactKind.EMAIL


class PhoneListField(_ContactListField):
    kind = ContactKind.PHONE


def _owner_queryset():
    return get_user_model().objects.filter(is_active=True)


class CustomerFieldsSerializer(serializers.Serializer):
    """The editable fields of a customer (create, partial update and upsert share them)."""

    kind = serializers.ChoiceField(choices=CustomerKind.choices, required=False)
    title = serializers.ChoiceField(choices=Title.choices, required=False, allow_blank=True)
    given_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    family_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    company_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    birth_date = serializers.DateField(required=False, allow_null=True)
    language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False)
    stage = serializers.ChoiceField(choices=Stage.choices, required=False)
    owner = serializers.PrimaryKeyRelatedField(
        queryset=_owner_queryset(), required=False, allow_null=True, help_text=_("Id of an active staff member.")
    )
    preferred_channel = serializers.ChoiceField(choices=PreferredChannel.choices, required=False, allow_blank=True)
    tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False)
    attributes = serializers.DictField(required=False, help_text=_("Custom attributes, by their key."))
    notes = serializers.CharField(required=False, allow_blank=True)


class CustomerCreateInputSerializer(CustomerFieldsSerializer):
    emails = EmailListField(child=serializers.CharField(), required=False, default=list)
    phones = PhoneListField(child=serializers.CharField(), required=False, default=list)
    addresses = AddressInputSerializer(many=True, required=False, default=list)
    external_ids = serializers.DictField(
        child=serializers.CharField(max_length=100),
        required=False,
        default=dict,
        help_text=_('The customer\'s ids in other systems, by source system, e.g. {"erp": "ERP-1234"}.'),
    )

    def validate(self, attrs: dict) -> dict:
        if not any(attrs.get(name) for name in ("given_name", "family_name", "company_name")):
            raise serializers.ValidationError(
                {"family_name": [ErrorDetail(str(_("Give at least a name or a company name.")), code="required")]}
            )
        return attrs


class CustomerUpdateInputSerializer(CustomerFieldsSerializer):
    """A partial update: only the fields sent change. Contact points and addresses have their own endpoints."""


class CustomerUpsertInputSerializer(CustomerCreateInputSerializer):
    source = serializers.CharField(max_length=50, help_text=_("The system the external id belongs to, e.g. 'erp'."))
    external_id = serializers.CharField(max_length=100)

    def validate(self, attrs: dict) -> dict:
        return attrs  # a known customer may be sent without names; customer_create checks new ones


class ContactPointInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ContactKind.choices)
    value = serializers.CharField(max_length=254)
    label = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    social_network = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    is_primary = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text=_("Make it the primary one of its kind.")
    )
    is_verified = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs: dict) -> dict:
        try:
            records.contact_value_normalise(attrs["kind"], attrs["value"])
        except ApplicationError as error:
            raise validation_error(error, field="value") from None
        return attrs


class AddressPatchInputSerializer(serializers.Serializer):
    """The fields to change; the address is validated whole, with the unchanged fields."""

    line1 = serializers.CharField(required=False, allow_blank=True)
    line2 = serializers.CharField(required=False, allow_blank=True)
    line3 = serializers.CharField(required=False, allow_blank=True)
    line4 = serializers.CharField(required=False, allow_blank=True)
    line5 = serializers.CharField(required=False, allow_blank=True)
    postcode = serializers.CharField(required=False, allow_blank=True)
    city = serializers.CharField(required=False)
    country = serializers.CharField(required=False)
    is_primary = serializers.BooleanField(required=False)
    valid_from = serializers.DateField(required=False, allow_null=True)


class ConsentInputSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices)
    purpose = serializers.ChoiceField(choices=Purpose.choices)
    status = serializers.ChoiceField(choices=ConsentStatus.choices)
    source = serializers.ChoiceField(choices=ConsentSource.choices, required=False, default=ConsentSource.API)
    occurred_at = DateTimeField(
        required=False, allow_null=True, default=None, help_text=_("When the customer answered; defaults to now.")
    )
    proof_text = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=5000, help_text=_("The text the customer was shown.")
    )
    ip_address = serializers.IPAddressField(required=False, allow_null=True, default=None)
    user_agent = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)

    def validate_occurred_at(self, value):
        # The ledger is append-only: a wrong date recorded there can never be corrected.
        if value is None:
            return value
        if value < CONSENT_EARLIEST:
            raise serializers.ValidationError(_("A consent cannot be dated before 1970."), code="too_early")
        if value > timezone.now() + CONSENT_CLOCK_SKEW:
            raise serializers.ValidationError(
                _("A consent cannot be dated in the future (more than 5 minutes from now)."), code="in_future"
            )
        return value
