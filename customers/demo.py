"""Demo customers for ``seed_demo``: French-first people and companies with contact points, AFNOR
addresses, consents, orders, contracts and invoices — deterministic for a given seed, idempotent.

Rows are written with ``bulk_create`` (seconds for 2,000 customers, not minutes); values are
normalised with the same functions the services use, so the demo data looks like real input.
"""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from crm.demo import DemoOptions, DemoSeeder, demo_seeder_register
from crm.errors import ApplicationError
from customers.choices import ConsentSource, ConsentStatus, ContactKind, CustomerKind, RecordSource, Stage
from customers.models import (
    AttributeDefinition,
    Consent,
    ContactPoint,
    Contract,
    Customer,
    CustomerExternalId,
    Invoice,
    Order,
    OrderLine,
    PostalAddress,
    Product,
    StageChange,
)
from customers.normalise import FRENCH_POSTCODE, afnor_locality_line, fold, phone_display, phone_normalise

TAGS = ["vip", "newsletter", "b2b", "fidélité", "salon-2026", "parrainage", "réclamation", "sav"]
CATEGORIES = {
    "Maison": ["Cafetière", "Bouilloire", "Grille-pain", "Aspirateur", "Robot cuiseur", "Lampe de bureau"],
    "Jardin": ["Tondeuse", "Taille-haie", "Arrosoir", "Salon de jardin", "Barbecue"],
    "Multimédia": ["Casque audio", "Enceinte", "Liseuse", "Tablette", "Montre connectée"],
    "Services": ["Extension de garantie", "Installation à domicile", "Assistance premium"],
}
PLANS = [("Essentiel", Decimal("9.90")), ("Confort", Decimal("19.90")), ("Sérénité", Decimal("29.90"))]
STAGE_WEIGHTS = [
    (Stage.PROSPECT, 25),
    (Stage.LEAD, 10),
    (Stage.CUSTOMER, 40),
    (Stage.LOYAL, 12),
    (Stage.LAPSED, 8),
    (Stage.CHURNED, 5),
]
ATTRIBUTES = [
    ("loyalty_card", "Loyalty card number", "Numéro de carte de fidélité", AttributeDefinition.Type.TEXT, []),
    ("household_size", "Household size", "Taille du foyer", AttributeDefinition.Type.NUMBER, []),
    (
        "favourite_store",
        "Favourite store",
        "Magasin préféré",
        AttributeDefinition.Type.CHOICE,
        ["Paris 11e", "Lyon Part-Dieu", "Lille"],
    ),
    ("is_professional", "Professional customer", "Client professionnel", AttributeDefinition.Type.BOOLEAN, []),
]
STORES = ["Paris 11e", "Lyon Part-Dieu", "Lille Centre", "Nantes Atlantis", "Bordeaux Lac"]


def _products(rng: random.Random) -> list[Product]:
    if Product.objects.exists():
        return list(Product.objects.all())
    products = []
    for category, names in CATEGORIES.items():
        for index, name in enumerate(names):
            price = Decimal(rng.choice([19, 29, 49, 79, 129, 199, 349])) - Decimal("0.10")
            products.append(Product(sku=f"{category[:3].upper()}-{index + 1:03d}", name=name, category=category,
                                    price=price, source="erp", external_id=f"P{len(products) + 1:05d}"))  # fmt: skip
    return Product.objects.bulk_create(products)


def _valid_number(rng: random.Random, prefixes: str) -> str:
    """A number that phonenumbers accepts (not every French range is allocated)."""
    while True:
        candidate = f"+33{rng.choice(prefixes)}{rng.randint(10000000, 99999999)}"
        try:
            return phone_normalise(candidate).e164
        except ApplicationError:
            continue


def _mobile(rng: random.Random) -> str:
    return _valid_number(rng, "67")


def _fixed(rng: random.Random) -> str:
    return _valid_number(rng, "12345")


@transaction.atomic
def seed_customers(options: DemoOptions) -> str:
    """Create demo customers until there are ``options.customers`` of them."""
    from faker import Faker

    existing = Customer.objects.count()
    missing = options.customers - existing
    if missing <= 0:
        return f"customers: {existing} already present"
    rng = random.Random(options.seed + existing)
    fake = Faker(["fr_FR"] * 9 + ["en_GB"])
    fake.seed_instance(options.seed + existing)
    for key, label, label_fr, kind, choices in ATTRIBUTES:
        definition, created = AttributeDefinition.objects.get_or_create(
            key=key, defaults={"label": label, "label_fr": label_fr, "type": kind, "choices": choices}
        )
        if not created and not definition.label_fr:  # a demo seeded before labels had a French one
            definition.label_fr = label_fr
            definition.save(update_fields=["label_fr"])
    agents = list(get_user_model().objects.filter(groups__name="Agent").order_by("pk"))
    products = _products(rng)
    now = timezone.now()
    stages, weights = zip(*STAGE_WEIGHTS, strict=True)

    customers = []
    for _ in range(missing):
        is_company = rng.random() < 0.15
        created = now - datetime.timedelta(days=rng.randint(0, 6 * 365), minutes=rng.randint(0, 1440))
        customers.append(
            Customer(
                kind=CustomerKind.COMPANY if is_company else CustomerKind.PERSON,
                title="" if is_company else rng.choice(["mr", "ms", "ms", "mr", ""]),
                given_name=fake.first_name(),
                family_name=fake.last_name(),
                company_name=fake.company() if is_company else "",
                birth_date=None if is_company else fake.date_of_birth(minimum_age=18, maximum_age=90),
                language="en" if rng.random() < 0.1 else "fr",
                stage=rng.choices(stages, weights)[0],
                stage_entered_at=created + datetime.timedelta(days=rng.randint(0, 200)),
                owner=rng.choice(agents) if agents and rng.random() < 0.7 else None,
                preferred_channel=rng.choice(["", "email", "phone", "sms", "face_to_face", "web"]),
                tags=sorted(set(rng.sample(TAGS, rng.randint(0, 2)))),
                attributes={"household_size": rng.randint(1, 6)} if rng.random() < 0.4 else {},
                created_via=RecordSource.IMPORT,
                created_at=created,
            )
        )
    customers = Customer.objects.bulk_create(customers)

    contacts, addresses, consents, external_ids, stage_changes = [], [], [], [], []
    orders, contracts = [], []
    next_order_number = 10_000_000 + Order.objects.count()
    for customer in customers:
        slug = fold(f"{customer.given_name}.{customer.family_name}").replace(" ", "").replace("'", "")
        email = f"{slug}{rng.randint(1, 999)}@{rng.choice(['orange.fr', 'free.fr', 'gmail.com', 'laposte.net'])}"
        contacts.append(ContactPoint(customer=customer, kind=ContactKind.EMAIL, value=email, raw_value=email,
                                     is_primary=True, is_verified=rng.random() < 0.6))  # fmt: skip
        mobile = _mobile(rng)
        contacts.append(ContactPoint(customer=customer, kind=ContactKind.MOBILE, value=mobile,
                                     raw_value=phone_display(mobile), is_primary=True))  # fmt: skip
        if rng.random() < 0.4:
            fixed = _fixed(rng)
            contacts.append(ContactPoint(customer=customer, kind=ContactKind.PHONE, value=fixed,
                                         raw_value=phone_display(fixed), is_primary=True, label="home"))  # fmt: skip
        postcode = fake.postcode()
        if not FRENCH_POSTCODE.match(postcode):
            postcode = "75011"
        city = fake.city()
        recipient = customer.company_name or f"{customer.given_name} {customer.family_name.upper()}"
        addresses.append(
            PostalAddress(
                customer=customer, line1=recipient[:38], line4=fake.street_address().upper()[:38],
                line6=afnor_locality_line(postcode=postcode, city=city, country="FR"), postcode=postcode, city=city,
                country="FR", is_primary=True,
            )
        )  # fmt: skip
        external_ids.append(CustomerExternalId(customer=customer, source="erp", value=f"ERP-{customer.pk:07d}"))
        stage_changes.append(StageChange(customer=customer, stage=Stage.PROSPECT, entered_at=customer.created_at,
                                         source=RecordSource.IMPORT))  # fmt: skip
        if customer.stage != Stage.PROSPECT:
            stage_changes.append(StageChange(customer=customer, stage=customer.stage, previous_stage=Stage.PROSPECT,
                                             entered_at=customer.stage_entered_at,
                                             source=RecordSource.SYSTEM))  # fmt: skip
        for channel, share in (("email", 0.7), ("sms", 0.35), ("postal_mail", 0.2)):
            if rng.random() < share:
                granted_at = customer.created_at + datetime.timedelta(minutes=5)
                consents.append(Consent(customer=customer, channel=channel, purpose="marketing",
                                        status=ConsentStatus.GRANTED, source=ConsentSource.WEB_FORM,
                                        occurred_at=granted_at, proof_text="J’accepte de recevoir les offres.",
                                        ip_address=fake.ipv4_public()))  # fmt: skip
                if rng.random() < 0.15:
                    withdrawn_at = granted_at + datetime.timedelta(days=rng.randint(10, 300))
                    consents.append(Consent(customer=customer, channel=channel, purpose="marketing",
                                            status=ConsentStatus.WITHDRAWN, source=ConsentSource.UNSUBSCRIBE_LINK,
                                            occurred_at=withdrawn_at))  # fmt: skip
        if customer.stage in (Stage.CUSTOMER, Stage.LOYAL, Stage.LAPSED, Stage.CHURNED):
            for _ in range(rng.randint(1, 3 if customer.stage != Stage.LOYAL else 9)):
                placed = customer.created_at + datetime.timedelta(days=rng.randint(0, 700))
                if placed > now:
                    placed = now - datetime.timedelta(days=rng.randint(1, 30))
                next_order_number += 1
                number = f"CMD-{next_order_number}"
                status = rng.choices(list(Order.Status), [5, 15, 10, 60, 5, 5])[0]
                orders.append(Order(customer=customer, number=number, source="eshop", external_id=number,
                                    status=status, placed_at=placed, currency="EUR",
                                    sales_channel=rng.choice(list(Order.SalesChannel)),
                                    store=rng.choice(STORES) if rng.random() < 0.4 else ""))  # fmt: skip
        if rng.random() < 0.25:
            plan, amount = rng.choice(PLANS)
            start = (customer.created_at + datetime.timedelta(days=rng.randint(0, 90))).date()
            number = f"CTR-{customer.pk:07d}"
            contracts.append(Contract(customer=customer, number=number, source="billing", external_id=number,
                                      plan=plan, start_date=start, monthly_amount=amount,
                                      status=rng.choice(["active", "active", "active", "ended"])))  # fmt: skip

    ContactPoint.objects.bulk_create(contacts)
    PostalAddress.objects.bulk_create(addresses)
    CustomerExternalId.objects.bulk_create(external_ids)
    StageChange.objects.bulk_create(stage_changes)
    Consent.objects.bulk_create(consents)
    orders = Order.objects.bulk_create(orders, ignore_conflicts=False)
    contracts = Contract.objects.bulk_create(contracts)

    lines, invoices = [], []
    for order in orders:
        total = Decimal("0")
        for product in rng.sample(products, rng.randint(1, 4)):
            quantity = Decimal(rng.randint(1, 3))
            amount = product.price * quantity
            total += amount
            lines.append(OrderLine(customer_id=order.customer_id, order=order, product=product, sku=product.sku,
                                   label=product.name, quantity=quantity, unit_price=product.price,
                                   amount=amount))  # fmt: skip
        order.total_amount = total
        if order.status not in (Order.Status.PLACED, Order.Status.CANCELLED):
            issued = order.placed_at.date()
            invoices.append(Invoice(customer_id=order.customer_id, order=order, number=f"FAC-{order.pk:08d}",
                                    source="billing", external_id=f"FAC-{order.pk:08d}", amount=total,
                                    issued_on=issued, due_on=issued + datetime.timedelta(days=30),
                                    paid_on=issued, status=Invoice.Status.PAID))  # fmt: skip
    OrderLine.objects.bulk_create(lines)
    Order.objects.bulk_update(orders, ["total_amount"], batch_size=1000)
    for contract in contracts:
        for month in range(3):
            issued = contract.start_date + datetime.timedelta(days=30 * month)
            if issued > now.date():
                break
            number = f"FAC-C{contract.pk:06d}-{month + 1}"
            invoices.append(Invoice(customer_id=contract.customer_id, contract=contract, number=number,
                                    source="billing", external_id=number, amount=contract.monthly_amount,
                                    issued_on=issued, due_on=issued + datetime.timedelta(days=15),
                                    paid_on=issued if month < 2 else None,
                                    status=Invoice.Status.PAID if month < 2 else Invoice.Status.OPEN))  # fmt: skip
    Invoice.objects.bulk_create(invoices)
    return (
        f"customers: {len(customers)} created ({len(contacts)} contact points, {len(orders)} orders, "
        f"{len(lines)} order lines, {len(contracts)} contracts, {len(invoices)} invoices), "
        f"{existing + len(customers)} in all"
    )


demo_seeder_register(DemoSeeder("customers", seed_customers, order=20))
