"""Schemathesis over every API operation, as an Admin: no 5xx, and every response true to the schema.

In process (the WSGI app, the test database), with a bounded number of generated cases per operation so
the whole run stays under a minute on two cores. The failures of all operations are collected and
reported together, one line each, so a regression names every operation it breaks.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from crm import roles, services
from tests.channels.calls_signing import SECRET as CTI_SECRET
from tests.channels_factories import CaseFactory, SiteFactory
from tests.customers_factories import CustomerFactory, EmailFactory

EXAMPLES_PER_OPERATION = 12
SMS_TOKEN = "schemathesis-sms-token"
CHECKS = [not_a_server_error, response_schema_conformance]


@pytest.fixture
def wsgi_app():
    # Django's test client keeps the test's database connection open across requests; a plain WSGI
    # call would close it at the end of each request, and with it the test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
def test_every_operation_answers_without_5xx_and_true_to_its_schema(wsgi_app, make_staff, settings):
    settings.SMS_WEBHOOK_TOKEN = SMS_TOKEN
    settings.CTI_SHARED_SECRET = CTI_SECRET
    admin = make_staff(roles.ADMIN, username="admin.schemathesis", is_staff=True)
    _token, key = services.api_token_create(user=admin, name="schemathesis", acting_user=admin)
    customer = CustomerFactory(owner=None)
    EmailFactory(customer=customer)
    CaseFactory(customer=customer)
    SiteFactory(key="schemathesis-site", allowed_origins="https://shop.example.com")

    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app)
    headers = {"Authorization": f"Token {key}", "X-Relais-Webhook-Token": SMS_TOKEN}
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            label = case.operation.label
            try:
                case.call_and_validate(headers=headers, checks=CHECKS)
            except Exception as error:  # noqa: BLE001 (every failure is collected and reported below)
                failures.append(f"{label}: {type(error).__name__}: {str(error).splitlines()[:12]}")

        run()
    assert operations >= 40, operations
    assert not failures, "\n".join(failures)
