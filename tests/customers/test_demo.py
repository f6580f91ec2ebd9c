"""seed_demo fills the customer record with realistic, valid data, once."""

from django.core.management import call_command

from customers.models import Consent, ContactPoint, Customer, Order, OrderLine, PostalAddress
from customers.normalise import FRENCH_POSTCODE, phone_normalise


def test_it_seeds_customers_with_valid_contact_data_once(db):
    call_command("seed_demo", "--customers", "60", verbosity=0)
    assert Customer.objects.count() == 60
    call_command("seed_demo", "--customers", "60", verbosity=0)
    assert Customer.objects.count() == 60

    assert ContactPoint.objects.filter(kind="email").count() == 60
    for contact in ContactPoint.objects.exclude(kind="email"):
        assert phone_normalise(contact.value).e164 == contact.value
    for address in PostalAddress.objects.all():
        assert FRENCH_POSTCODE.match(address.postcode)
        assert all(len(line) <= 38 for line in address.lines)
        assert address.line6 == address.line6.upper()
    assert Consent.objects.exists()
    assert (
        OrderLine.objects.filter(customer_id__in=Order.objects.values("customer_id")).count()
        == OrderLine.objects.count()
    )
    assert Customer.objects.filter(account_number__startswith="C-").count() == 60
