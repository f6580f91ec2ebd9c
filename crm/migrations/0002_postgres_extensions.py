"""The PostgreSQL extensions Relais relies on (fuzzy and accent-folded search, GIN on scalars)."""

from django.contrib.postgres.operations import BtreeGinExtension, TrigramExtension, UnaccentExtension
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("crm", "0001_initial")]

    operations = [TrigramExtension(), UnaccentExtension(), BtreeGinExtension()]
