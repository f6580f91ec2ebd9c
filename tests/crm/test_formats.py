"""English in Relais is British: dates day first in pages, in date fields and in exports."""

from __future__ import annotations

import datetime

import pytest
from django import forms
from django.template import Context, Template
from django.utils import translation

pytestmark = pytest.mark.django_db


def test_english_dates_are_written_day_first():
    day = datetime.date(2026, 2, 12)
    with translation.override("en"):
        shown = Template('{{ day|date:"SHORT_DATE_FORMAT" }} · {{ day|date }}').render(Context({"day": day}))
    assert shown == "12/02/2026 · 12 Feb 2026"


def test_an_english_date_field_reads_day_first_and_still_takes_iso():
    class DateForm(forms.Form):
        day = forms.DateField()

    def read(text):
        form = DateForm({"day": text})
        return form.cleaned_data["day"] if form.is_valid() else None

    with translation.override("en"):
        assert read("12/02/2026") == datetime.date(2026, 2, 12)
        assert read("2026-02-12") == datetime.date(2026, 2, 12)  # what a browser's date input sends
        assert read("02/13/2026") is None  # US order is refused, not misread


def test_an_en_gb_browser_sees_day_first_dates_on_the_360_page(client, agent):
    from django.utils import timezone

    from tests.customers_factories import CustomerFactory

    customer = CustomerFactory(created_at=timezone.make_aware(datetime.datetime(2026, 2, 13, 10, 0)))
    client.force_login(agent)
    page = client.get(f"/customers/{customer.pk}/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.8").content.decode()
    today = timezone.localdate()
    assert "13/02/2026" in page and "02/13/2026" not in page
    assert f"since {today.strftime('%d/%m/%Y')}" in page
