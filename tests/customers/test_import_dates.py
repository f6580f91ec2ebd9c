"""Import dates: the regex fast path reads exactly what the strptime formats read, and nothing more."""

import datetime
import random

import pytest

from customers.services.imports.validation import DATE_FORMATS, date_parse


def strptime_only(text: str) -> datetime.date | None:
    for fmt in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    return None


def parsed(text: str) -> datetime.date | None:
    try:
        return date_parse(text)
    except ValueError:
        return None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-02-29", datetime.date(2024, 2, 29)),
        ("29/02/2024", datetime.date(2024, 2, 29)),
        ("29.02.2024", datetime.date(2024, 2, 29)),
        ("29-02-2024", datetime.date(2024, 2, 29)),
        (" 01/12/1980 ", datetime.date(1980, 12, 1)),
        ("1/2/1980", datetime.date(1980, 2, 1)),
        ("01/12/80", datetime.date(1980, 12, 1)),
        ("2023-02-29", None),
        ("31/04/2020", None),
        ("29/02-2024", None),
        ("12/31/2020", None),
        ("2024/02/01", None),
        ("hier", None),
    ],
)
def test_dates_in_the_formats_files_use(text, expected):
    assert parsed(text) == expected


def test_the_fast_path_agrees_with_strptime_on_random_dates_and_near_misses():
    rng = random.Random(7)
    for _ in range(3000):
        day, month, year = rng.randint(0, 32), rng.randint(0, 13), rng.randint(1890, 2030)
        separator = rng.choice("/.-")
        for text in (f"{year:04d}-{month:02d}-{day:02d}", f"{day:02d}{separator}{month:02d}{separator}{year:04d}"):
            assert parsed(text) == strptime_only(text), text
