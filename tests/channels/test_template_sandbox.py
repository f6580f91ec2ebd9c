"""Response templates are rendered by a sandboxed engine: an author who writes a tag or a variable it
does not allow gets a clear error when saving, and such a text never renders."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from channels.models import ResponseTemplate
from channels.services.templates import template_context, template_text_render
from crm.errors import ApplicationError
from tests.customers_factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _template(body: str, subject: str = "") -> ResponseTemplate:
    return ResponseTemplate(channel="email", name="Réponse", language="fr", subject=subject, body=body)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{% debug %}", "“{% debug %}” cannot be used in a response template"),
        ('{% include "base.html" %}', "“{% include %}” cannot be used in a response template"),
        ('{% extends "staff_base.html" %}', "“{% extends %}” cannot be used in a response template"),
        ("{% load static %}{% static 'x' %}", "“{% load %}” cannot be used in a response template"),
        ("{{ customer.user.password }}", "“customer.user.password” is not a template variable"),
        ("{% if customer.user.is_superuser %}x{% endif %}", "“customer.user.is_superuser” is not a template variable"),
        ("{{ customer.display_name|default:agent.password }}", "“agent.password” is not a template variable"),
        ("{{ settings.SECRET_KEY }}", "“settings.SECRET_KEY” is not a template variable"),
        ("{{ customer.display_name|pprint }}", "Invalid filter: 'pprint'"),
    ],
)
def test_a_template_using_what_the_sandbox_refuses_cannot_be_saved(body, message):
    template = _template(body)
    with pytest.raises(ValidationError) as refused:
        template.full_clean()
    assert any(message in text for text in refused.value.message_dict["body"]), refused.value.message_dict


def test_the_allowed_tags_filters_and_variables_render():
    customer = CustomerFactory(given_name="Hélène", family_name="Lefèvre")
    text = (
        "Bonjour {{ customer.given_name|upper }}{% if case.number %} ({{ case.number }}){% endif %}, "
        "{% firstof agent.first_name 'notre équipe' %}{# note #}{% comment %}{{ x.y }}{% endcomment %}"
    )
    _template(text).full_clean()  # saved without complaint

    rendered = template_text_render(text, context=template_context(customer=customer))

    assert rendered == "Bonjour HÉLÈNE, notre équipe"


def test_a_refused_text_already_in_the_database_does_not_render():
    customer = CustomerFactory()
    for text in ("{% debug %}", "{{ customer.user.password }}", '{% include "base.html" %}'):
        with pytest.raises(ApplicationError) as refused:
            template_text_render(text, context=template_context(customer=customer))
        assert refused.value.code == "template_error"


def test_the_admin_shows_the_error_when_an_author_saves_a_debug_tag(client, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("admin:channels_responsetemplate_add"), {
        "channel": "email", "name": "Piège", "language": "fr", "subject": "{{ customer.user.password }}",
        "body": "Bonjour {% debug %}", "is_active": "on",
    })  # fmt: skip

    page = response.content.decode()
    assert response.status_code == 200 and not ResponseTemplate.objects.filter(name="Piège").exists()
    assert "cannot be used in a response template" in page and "debug" in page
    assert "is not a template variable" in page
