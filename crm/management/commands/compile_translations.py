"""python manage.py compile_translations: .po -> .mo without GNU gettext (uses polib).

Django's ``compilemessages`` needs ``msgfmt``, which a fresh machine may not have.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand


def compile_translations(*, force: bool = False) -> list[Path]:
    """Compile every .po under LOCALE_PATHS whose .mo is missing or older; return the .mo written."""
    import polib

    written = []
    for root in settings.LOCALE_PATHS:
        for po_path in Path(root).glob("*/LC_MESSAGES/*.po"):
            mo_path = po_path.with_suffix(".mo")
            if force or not mo_path.exists() or mo_path.stat().st_mtime < po_path.stat().st_mtime:
                polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
                written.append(mo_path)
    return written


class Command(BaseCommand):
    help = "Compile translation catalogues (.po to .mo) with polib; no GNU gettext needed."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Recompile even if up to date.")

    def handle(self, *args, force: bool, **options):
        written = compile_translations(force=force)
        self.stdout.write(f"{len(written)} catalogue(s) compiled")
