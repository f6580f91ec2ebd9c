"""python manage.py seed_demo [--customers N]: idempotent demo data for `make run` and screenshots."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from crm.demo import DemoOptions, demo_seeders


class Command(BaseCommand):
    help = "Load demo data (French-first, realistic). Safe to run again: nothing is duplicated."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=2000, help="How many demo customers (default 2000).")
        parser.add_argument("--seed", type=int, default=2026, help="Random seed, for reproducible data.")

    def handle(self, *args, customers: int, seed: int, **options):
        if customers < 0:
            raise CommandError("--customers must be zero or more.")
        demo = DemoOptions(customers=customers, seed=seed)
        for seeder in demo_seeders():
            self.stdout.write(seeder.run(demo))
