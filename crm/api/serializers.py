"""Serializers of the project API: input ones check shape and types, output ones say what is returned.

No serializer writes: views pass validated input to a service (``crm.services``).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import models
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.api.fields import DateTimeField
from crm.models import ApiToken


class ModelSerializer(serializers.ModelSerializer):
    """DRF's, with the API's date-time field (UTC output) and blank choices that the schema admits."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: DateTimeField,
    }

    def include_extra_kwargs(self, kwargs, extra_kwargs):
        # DRF drops allow_blank from read-only fields, so the schema's enum of a choice field that may be
        # blank ("" = not set, e.g. a user's language) would leave out the "" responses really carry.
        allow_blank = kwargs.get("allow_blank", False)
        kwargs = super().include_extra_kwargs(kwargs, extra_kwargs)
        if allow_blank and kwargs.get("read_only") and "choices" in kwargs:
            kwargs["allow_blank"] = True
        return kwargs


class ErrorFieldSerializer(serializers.Serializer):
    code = serializers.CharField(help_text=_("Machine-readable reason, e.g. 'required' or 'invalid'."))
    message = serializers.CharField(help_text=_("Human-readable message, in the caller's language."))


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text=_(
            "Machine-readable error code: validation_error, not_authenticated, invalid_token, revoked_token, "
            "malformed_token, permission_denied, not_found, throttled, or a domain code."
        )
    )
    message = serializers.CharField(help_text=_("Human-readable summary, in the caller's language."))
    status = serializers.IntegerField(help_text=_("The HTTP status code, repeated."))
    fields = serializers.DictField(
        child=ErrorFieldSerializer(many=True),
        required=False,
        help_text=_(
            "Validation errors only: field path (dotted for nested input, 'non_field_errors' otherwise) to its errors."
        ),
    )


class ErrorSerializer(serializers.Serializer):
    """The one error format of every endpoint; ``fields`` is present on validation errors only."""

    # Mirrors crm.api.errors.error_body; the schema names it ``Error`` (crm.api.schema).

    error = ErrorBodySerializer()


class MeOutputSerializer(ModelSerializer):
    roles = serializers.ListField(child=serializers.CharField(), source="role_names", read_only=True)
    permissions = serializers.SerializerMethodField(
        help_text=_("Every permission the caller holds, as 'app_label.codename'.")
    )

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "first_name", "last_name", "email", "language", "roles", "permissions"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_permissions(self, user) -> list[str]:
        return sorted(user.get_all_permissions())


class ApiTokenOutputSerializer(ModelSerializer):
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "last_used_at", "revoked_at", "is_active"]
        read_only_fields = fields


class ApiTokenCreatedOutputSerializer(ApiTokenOutputSerializer):
    """A token just created, with its secret key."""

    # The key comes as context["key"]: the model never holds it.

    key = serializers.SerializerMethodField(
        help_text=_("The secret key, returned by this response only: store it now, it cannot be read again.")
    )

    class Meta(ApiTokenOutputSerializer.Meta):
        fields = [*ApiTokenOutputSerializer.Meta.fields, "key"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_key(self, token) -> str:
        return self.context["key"]


class ApiTokenCreateInputSerializer(serializers.Serializer):
    name = serializers.CharField(
        max_length=ApiToken._meta.get_field("name").max_length,
        help_text=_("What the token is for, e.g. 'ERP sync'."),
    )


class StaffOutputSerializer(ModelSerializer):
    roles = serializers.ListField(child=serializers.CharField(), source="role_names", read_only=True)

    class Meta:
        model = get_user_model()
        fields = [
            "id", "username", "first_name", "last_name", "email", "language", "phone_extension",
            "is_active", "roles", "last_login",
        ]  # fmt: skip
        read_only_fields = fields
