"""Forms of the project package."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model


class BootstrapForm:
    """Renders as Bootstrap 5 markup with Django's own form rendering (``{{ form }}``).

    The same markup as crispy-forms' bootstrap5 pack for plain field lists, at a fraction of its
    rendering cost: for forms on pages every user opens often (the account page is the signed-in
    page floor, measured in bench/bench_foundation.py).
    """

    template_name = "crm/forms/bootstrap.html"
    _widget_classes = {"select": "form-select", "selectmultiple": "form-select", "checkbox": "form-check-input"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            kind = self[name].widget_type
            css = self._widget_classes.get(kind, "form-control")
            field.widget.attrs["class"] = " ".join(filter(None, [field.widget.attrs.get("class"), css]))

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = (widget.attrs.get("class", "") + " is-invalid").strip()


class AccountForm(BootstrapForm, forms.ModelForm):
    class Meta:
        model = get_user_model()
        fields = ["first_name", "last_name", "email", "language", "phone_extension"]
