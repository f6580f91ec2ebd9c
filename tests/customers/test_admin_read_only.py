"""The Django admin is no second write path for the customer record: view only, a POST changes nothing."""

from __future__ import annotations

import pytest
from django.forms.models import model_to_dict

from tests.customers_factories import (
    AddressFactory,
    ContractFactory,
    CustomerFactory,
    EmailFactory,
    ExternalIdFactory,
    InvoiceFactory,
    OrderFactory,
)

MAKERS = {
    "customer": CustomerFactory,
    "contactpoint": EmailFactory,
    "postaladdress": AddressFactory,
    "customerexternalid": ExternalIdFactory,
    "order": OrderFactory,
    "contract": ContractFactory,
    "invoice": InvoiceFactory,
}


@pytest.fixture
def superuser(make_staff):
    return make_staff(None, username="root.test", is_staff=True, is_superuser=True)


@pytest.mark.parametrize("model", sorted(MAKERS))
def test_a_post_to_the_admin_change_page_changes_nothing(client, superuser, model):
    obj = MAKERS[model]()
    before = model_to_dict(obj)
    client.force_login(superuser)
    url = f"/admin/customers/{model}/{obj.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200  # readable...
    assert b'name="_save"' not in page.content  # ...with no save button
    posted = {key: "" if value is None else value for key, value in before.items() if not isinstance(value, list)}
    posted.update({"value": "tampered@example.fr", "family_name": "TAMPERED", "status": "dismissed", "number": "X"})
    response = client.post(url, posted)
    assert response.status_code == 403
    obj.refresh_from_db()
    assert model_to_dict(obj) == before
    assert client.post(f"/admin/customers/{model}/add/", posted).status_code == 403
    assert client.post(f"/admin/customers/{model}/{obj.pk}/delete/", {"post": "yes"}).status_code == 403
    assert type(obj).objects.filter(pk=obj.pk).exists()
