"""Demo data: the staff accounts everyone can sign in with, plus a registry apps add seeders to.

``seed_demo`` runs every registered seeder in order; each is idempotent (running it twice changes
nothing) and returns a line describing what it created or found. Apps register theirs with
``demo_seeder_register`` in a ``demo.py`` module, discovered like ``admin.py``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from crm import roles


@dataclass(frozen=True)
class DemoOptions:
    customers: int
    seed: int = 2026


@dataclass(frozen=True)
class DemoSeeder:
    name: str
    run: Callable[[DemoOptions], str]
    order: int = 100


_seeders: dict[str, DemoSeeder] = {}


def demo_seeder_register(seeder: DemoSeeder) -> None:
    _seeders[seeder.name] = seeder


def demo_seeders() -> list[DemoSeeder]:
    """Every registered seeder, in order; each app's ``demo`` module is imported first (like admin.py)."""
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("demo")
    return sorted(_seeders.values(), key=lambda s: s.order)


# The four demo logins printed by `make run` and written in the README.
DEMO_LOGINS = [
    ("admin", roles.ADMIN, "Camille", "Martin"),
    ("supervisor", roles.SUPERVISOR, "Julien", "Bernard"),
    ("agent", roles.AGENT, "Léa", "Dubois"),
    ("marketer", roles.MARKETER, "Hugo", "Moreau"),
]
# More of the team, so lists and assignment have people in them.
TEAM_SIZE = {roles.AGENT: 14, roles.SUPERVISOR: 2, roles.MARKETER: 3}


@transaction.atomic
def seed_staff(options: DemoOptions) -> str:
    """Create the demo logins and a French-first team of agents, supervisors and marketers."""
    from django.contrib.auth.hashers import make_password
    from faker import Faker

    User = get_user_model()
    # One hash for every demo account: hashing 20+ passwords would add seconds to the first start.
    password = make_password(settings.DEMO_PASSWORD)
    groups = {group.name: group for group in Group.objects.filter(name__in=roles.ROLE_PERMISSIONS)}
    created = 0
    for username, role, first_name, last_name in DEMO_LOGINS:
        user, was_created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first_name,
                "last_name": last_name,
                "email": f"{username}@relais.example",
                "is_staff": role == roles.ADMIN,
                "is_superuser": role == roles.ADMIN,
                "language": "fr",
                "password": password,
            },
        )
        if was_created:
            user.groups.add(groups[role])
            created += 1

    fake = Faker(["fr_FR", "fr_FR", "fr_FR", "en_GB"])
    fake.seed_instance(options.seed)
    rng = random.Random(options.seed)
    extension = 200
    for role, count in TEAM_SIZE.items():
        for index in range(count):
            extension += 1
            first_name, last_name = fake.first_name(), fake.last_name()
            username = f"{role.lower()}{index + 1:02d}"
            user, was_created = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first_name,
                    "last_name": last_name,
                    "email": f"{username}@relais.example",
                    "phone_extension": str(extension) if role != roles.MARKETER else "",
                    "language": rng.choice(["fr", "fr", "fr", "en"]),
                    "password": password,
                },
            )
            if was_created:
                user.groups.add(groups[role])
                created += 1
    total = User.objects.count()
    return f"staff: {created} created, {total} in all"


demo_seeder_register(DemoSeeder("staff", seed_staff, order=0))
