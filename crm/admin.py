"""Django admin for staff accounts and API tokens.

Tokens are created and revoked through ``crm.services`` here too: the admin shows a new key once
(as a message) and never shows, nor lets anyone edit, the stored hash.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from crm import services
from crm.models import ApiToken, User


@admin.register(User)
class RelaisUserAdmin(UserAdmin):
    fieldsets = (
        *UserAdmin.fieldsets,
        (gettext_lazy("Relais"), {"fields": ("language", "phone_extension")}),
    )
    add_fieldsets = (
        *UserAdmin.add_fieldsets,
        (gettext_lazy("Relais"), {"fields": ("first_name", "last_name", "email", "language", "phone_extension")}),
    )
    list_display = ("username", "first_name", "last_name", "email", "language", "is_active", "is_staff")
    list_filter = ("is_active", "is_staff", "is_superuser", "groups", "language")


class ApiTokenAddForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ("user", "name")

    def clean_user(self) -> User:
        user = self.cleaned_data["user"]
        if not user.is_active:
            raise forms.ValidationError(_("An inactive staff member cannot hold API tokens."))
        return user


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "user", "created_at", "last_used_at", "is_revoked")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter), "created_at")
    list_select_related = ("user",)
    search_fields = ("name", "prefix", "user__username", "user__email")
    autocomplete_fields = ("user",)
    actions = ("revoke_selected",)
    # key_hash is in no list: it is never displayed nor editable.
    add_fields = ("user", "name")
    change_fields = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")

    def get_form(self, request: HttpRequest, obj: ApiToken | None = None, **kwargs):
        if obj is None:
            kwargs["form"] = ApiTokenAddForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request: HttpRequest, obj: ApiToken | None = None):
        return self.add_fields if obj is None else self.change_fields

    def get_readonly_fields(self, request: HttpRequest, obj: ApiToken | None = None):
        # Revoking goes through the action (the service); nothing on a saved token is edited by hand.
        return () if obj is None else self.change_fields

    @admin.display(boolean=True, description=gettext_lazy("revoked"), ordering="revoked_at")
    def is_revoked(self, token: ApiToken) -> bool:
        return not token.is_active

    def has_delete_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False  # tokens are revoked, not deleted, so their history stays

    def save_model(self, request: HttpRequest, obj: ApiToken, form, change: bool) -> None:
        if change:
            return  # every field of a saved token is read-only
        token, key = services.api_token_create(user=obj.user, name=obj.name, acting_user=request.user)
        # The admin goes on with ``obj`` (log entry, redirect): make it the saved row.
        obj.pk, obj.prefix, obj.key_hash, obj.created_at = token.pk, token.prefix, token.key_hash, token.created_at
        obj._state.adding, obj._state.db = False, token._state.db
        messages.warning(
            request,
            _("The key of the token “%(name)s” is %(key)s — copy it now: it will not be shown again.")
            % {"name": token.name, "key": key},
        )

    @admin.action(description=gettext_lazy("Revoke selected tokens"), permissions=["change"])
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        revoked = 0
        for token in queryset.filter(revoked_at__isnull=True).select_related("user"):
            services.api_token_revoke(token=token, acting_user=request.user)
            revoked += 1
        message = ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", revoked) % {"count": revoked}
        self.message_user(request, message, messages.SUCCESS)
