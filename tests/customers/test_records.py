"""Creating and changing customers through the services: normalised, validated, all or nothing, audited."""

from __future__ import annotations

import pytest
from django.apps import apps

from crm.errors import ApplicationError
from customers.models import ContactPoint, Customer, PostalAddress, StageChange
from customers.services.records import (
    AddressInput,
    CustomerInput,
    address_add,
    contact_point_add,
    contact_point_remove,
    customer_change_stage,
    customer_create,
    customer_update,
    external_id_set,
)
from tests.customers_factories import CustomerFactory


def test_it_creates_a_customer_with_normalised_contacts_and_an_afnor_address(db, agent):
    customer = customer_create(
        data=CustomerInput(
            given_name="  Éloïse ", family_name="Dupré", title="ms", emails=["Eloise.Dupre@Example.FR"],
            phones=["06 12 34 56 78", "01 42 68 53 00"],
            addresses=[AddressInput(line4="12, rue de la Paix.", postcode="75002", city="Paris")],
            external_ids={"erp": "E-1"}, tags=["VIP", "vip", " fidélité "],
        ),
        acting_user=agent,
    )  # fmt: skip
    assert customer.account_number.startswith("C-")
    assert customer.given_name == "Éloïse"
    assert customer.tags == ["fidélité", "vip"]
    values = set(customer.contact_points.values_list("kind", "value", "is_primary"))
    assert values == {("email", "eloise.dupre@example.fr", True), ("mobile", "+33612345678", True),
                      ("phone", "+33142685300", True)}  # fmt: skip
    address = customer.addresses.get()
    assert address.lines == ["Mme Éloïse DUPRÉ", "12, rue de la Paix", "75002 PARIS"]
    assert customer.stage_changes.get().stage == "prospect"
    assert Customer.objects.get(pk=customer.pk).search_name == "eloise dupre"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (CustomerInput(family_name="Martin", emails=["not-an-email"]), "value"),
        (CustomerInput(family_name="Martin", phones=["12"]), "value"),
        (CustomerInput(family_name="Martin", addresses=[AddressInput(line4="x" * 39, postcode="75002", city="Paris")]),
         "line4"),
        (CustomerInput(family_name="Martin", addresses=[AddressInput(line4="1 rue", postcode="99999", city="Paris")]),
         "postcode"),
        (CustomerInput(), "family_name"),
        (CustomerInput(family_name="Martin", stage="royalty"), "stage"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_with_its_field_and_nothing_is_written(db, agent, data, field):
    with pytest.raises(ApplicationError) as error:
        customer_create(data=data, acting_user=agent)
    assert error.value.field == field
    assert not Customer.objects.exists()
    assert not ContactPoint.objects.exists()


def test_a_line_too_long_names_the_line_and_its_length(db):
    customer = CustomerFactory()
    with pytest.raises(ApplicationError, match="Address line 4 has 40 characters"):
        address_add(customer=customer, data=AddressInput(line4="x" * 40, postcode="75002", city="Paris"))
    assert not PostalAddress.objects.exists()


def test_a_foreign_address_keeps_its_postcode_format(db):
    customer = CustomerFactory(family_name="Smith")
    address = address_add(customer=customer, data=AddressInput(line4="10 Downing Street", postcode="SW1A 2AA",
                                                               city="London", country="gb"))  # fmt: skip
    assert (address.country, address.line6) == ("GB", "SW1A 2AA London")


def test_the_same_phone_in_another_format_is_not_added_twice(db):
    customer = CustomerFactory()
    first = contact_point_add(customer=customer, kind="phone", value="06 12 34 56 78")
    again = contact_point_add(customer=customer, kind="mobile", value="+33 (0)6 12 34 56 78", is_verified=True)
    assert again.pk == first.pk and again.is_verified
    assert customer.contact_points.count() == 1


def test_primary_moves_and_is_passed_on_when_removed(db):
    customer = CustomerFactory()
    first = contact_point_add(customer=customer, kind="email", value="a@example.fr")
    second = contact_point_add(customer=customer, kind="email", value="b@example.fr", is_primary=True)
    first.refresh_from_db()
    assert (first.is_primary, second.is_primary) == (False, True)
    contact_point_remove(contact_point=second)
    first.refresh_from_db()
    assert first.is_primary


def test_stage_changes_are_kept_as_history(db, agent):
    customer = CustomerFactory()
    customer_change_stage(customer=customer, stage="lead", acting_user=agent)
    customer_change_stage(customer=customer, stage="customer", acting_user=agent)
    customer_change_stage(customer=customer, stage="customer", acting_user=agent)
    stages = list(
        StageChange.objects.filter(customer=customer).order_by("entered_at").values_list("stage", "previous_stage")
    )
    assert stages == [("lead", "prospect"), ("customer", "lead")]
    customer.refresh_from_db()
    assert customer.stage == "customer"


def test_updates_are_recorded_in_history_with_the_user_and_channel(db, agent):
    customer = CustomerFactory(family_name="Martin")
    customer_update(customer=customer, acting_user=agent, source="api", family_name="Martin-Durand")
    CustomerEvent = apps.get_model("customers", "CustomerEvent")
    event = CustomerEvent.objects.filter(pgh_obj=customer).order_by("-pgh_id").first()
    assert event.family_name == "Martin-Durand"
    assert event.pgh_context.metadata["user"] == agent.pk
    assert event.pgh_context.metadata["channel"] == "api"


def test_a_merged_customer_cannot_be_changed(db):
    survivor = CustomerFactory()
    tombstone = CustomerFactory(merged_into=survivor)
    with pytest.raises(ApplicationError, match="merged or anonymised"):
        customer_update(customer=tombstone, family_name="X")


def test_an_external_id_belongs_to_one_customer(db):
    first, second = CustomerFactory(), CustomerFactory()
    external_id_set(customer=first, source="erp", value="E-9")
    with pytest.raises(ApplicationError, match="already belongs"):
        external_id_set(customer=second, source="erp", value="E-9")
