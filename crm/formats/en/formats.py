"""English in Relais is British English: dates day first (12/02/2026 is 12 February), 24-hour times.

Django's "en" formats are American (month first); an en-GB browser is served "en" (LANGUAGES has
no en-gb), so "en" takes the en_GB formats, for display and for parsing date fields alike.
"""

from django.conf.locale.en_GB.formats import *  # noqa: F403

TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
