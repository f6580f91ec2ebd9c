"""Forms of the project package."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model


class AccountForm(forms.ModelForm):
    class Meta:
        model = get_user_model()
        fields = ["first_name", "last_name", "email", "language", "phone_extension"]
