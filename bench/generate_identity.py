"""The labelled French people of the identity benchmark (``bench_identity``): pure Python, seeded.

``generate()`` draws the existing customers (namesakes in few towns, households sharing an address, a
family mailbox or a landline) and the incoming rows, each labelled with the truth; see
``bench/bench_identity.py`` for what is measured on them.
"""

from __future__ import annotations

import datetime
import random
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

SEED = 20261202
SOURCE = "eshop"  # the external ids' source system
TAG = "bench-identity"

# Variants of a row for a person the database knows, with their weights (per 100 known rows).
KNOWN_VARIANTS = {
    "re-typed (case, accents, phone format)": 25,
    "typo in a name": 15,
    "moved (another town and street)": 12,
    "another email, same mobile": 6,
    "another mobile, same email": 6,
    "email and name only": 6,
    "phone and name only": 6,
    "name + birth date only": 6,
    "name + street address only": 6,
    "external id, other details changed": 5,
    "family mailbox and own name": 5,
    "name + postcode only (never a match by design)": 2,
}
# Variants of a row for a person the database does not know (per 100 new rows).
NEW_VARIANTS = {
    "namesake in the same town": 35,
    "namesake at the same address (parent or child)": 10,
    "relative sharing the family mailbox": 15,
    "relative sharing the landline": 5,
    "stranger": 25,
    "new person twice in the file": 10,
}
KNOWN_SHARE = 0.6  # of the incoming rows, those for a known person

EMAIL_DOMAINS = ["gmail.com", "orange.fr", "free.fr", "laposte.net", "sfr.fr", "hotmail.fr", "yahoo.fr",
                 "outlook.fr", "wanadoo.fr", "bbox.fr"]  # fmt: skip
KEYBOARD = {  # AZERTY neighbours, for typos
    "a": "zq", "z": "aes", "e": "zrd", "r": "etf", "t": "ryg", "y": "tuh", "u": "yij", "i": "uok", "o": "ipl",
    "p": "om", "q": "asw", "s": "qdz", "d": "sfe", "f": "dgr", "g": "fht", "h": "gjy", "j": "hku", "k": "jli",
    "l": "kmo", "m": "lp", "w": "xq", "x": "wc", "c": "xv", "v": "cb", "b": "vn", "n": "b",
}  # fmt: skip


# -- The population ------------------------------------------------------------------------------


@dataclass
class Person:
    """One real person (the truth), as the database or an incoming row would hold them."""

    key: int
    title: str
    given: str
    family: str
    birth_date: datetime.date | None
    postcode: str
    city: str
    street: str
    emails: list[str] = field(default_factory=list)  # personal first, then the family mailbox
    mobile: str = ""  # E.164
    landline: str = ""  # E.164
    external_id: str = ""
    household: int = 0
    family_email: str = ""


@dataclass
class Row:
    """An incoming row: what was typed, and the truth (``known`` key of an existing person, or a new one)."""

    number: int
    variant: str
    truth: tuple[str, int]  # ("known", person key) or ("new", person key)
    email: str = ""
    phone: str = ""
    external_id: str = ""
    given_name: str = ""
    family_name: str = ""
    postcode: str = ""
    street: str = ""
    birth_date: datetime.date | None = None


@dataclass
class Dataset:
    existing: list[Person]
    rows: list[Row]
    seed: int

    def describe(self) -> str:
        names = Counter((p.given, p.family, p.postcode) for p in self.existing)
        shared = sum(n for n in names.values() if n > 1)
        households = Counter(p.household for p in self.existing)
        mailboxes = Counter(e for p in self.existing for e in p.emails)
        postcodes = len({p.postcode for p in self.existing})
        return (
            f"{len(self.existing):,} existing customers in {postcodes} postcodes, {shared:,} of them sharing their "
            f"given name, family name and postcode with another; {sum(1 for n in households.values() if n > 1):,} "
            f"households of 2 or more; {sum(1 for n in mailboxes.values() if n > 1):,} mailboxes shared by "
            f"several customers; {len(self.rows):,} incoming rows "
            f"({sum(1 for r in self.rows if r.truth[0] == 'known'):,} for known customers), seed {self.seed}"
        )


def _strip_accents(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def _slug(text: str) -> str:
    return "".join(ch for ch in _strip_accents(text).lower() if ch.isalnum())


class _Pools:
    def __init__(self, seed: int) -> None:
        from faker import Faker
        from faker.providers.address.fr_FR import Provider as FrAddress
        from faker.providers.person.fr_FR import Provider as FrPerson

        fake = Faker("fr_FR")
        fake.seed_instance(seed)
        rng = random.Random(seed)
        self.male = sorted(set(FrPerson.first_names_male))
        self.female = sorted(set(FrPerson.first_names_female))
        rng.shuffle(self.male)
        rng.shuffle(self.female)
        self.family = list(dict.fromkeys(FrPerson.last_names))  # INSEE order: the most frequent first
        # Frequencies by rank (Zipf): the first family names and given names are drawn far more often.
        self.family_weights = [1 / (rank + 1) ** 0.9 for rank in range(len(self.family))]
        self.male_weights = [1 / (rank + 1) ** 0.8 for rank in range(len(self.male))]
        self.female_weights = [1 / (rank + 1) ** 0.8 for rank in range(len(self.female))]
        self.streets = sorted({fake.street_name() for _ in range(3000)})
        departments = [d for d, _n in FrAddress.departments if d.isdigit() and len(d) == 2 and d != "20"]
        self.departments = departments
        self.cities = sorted({fake.city() for _ in range(2000)})


class _Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.pools = _Pools(seed)
        self.phones = 0
        self.emails = 0
        self.external_ids = 0
        self.keys = 0

    # Identifiers, distinct by construction.

    def mobile(self) -> str:
        from bench.generate_customers import MOBILE_PREFIXES

        self.phones += 1
        x = (self.phones * 7_919 + 31_000_000) % (len(MOBILE_PREFIXES) * 1_000_000)
        return f"+33{MOBILE_PREFIXES[x // 1_000_000]}{x % 1_000_000:06d}"

    def landline(self) -> str:
        from bench.generate_customers import FIXED_PREFIXES

        self.phones += 1
        x = (self.phones * 7_919 + 31_000_000) % (len(FIXED_PREFIXES) * 1_000_000)
        return f"+33{FIXED_PREFIXES[x // 1_000_000]}{x % 1_000_000:06d}"

    def email(self, *parts: str) -> str:
        self.emails += 1
        local = ".".join(_slug(p) for p in parts if _slug(p))
        return f"{local}{self.emails}@{self.rng.choice(EMAIL_DOMAINS)}"

    def external_id(self) -> str:
        self.external_ids += 1
        return f"E{self.external_ids * 37 + 1_000_000:08d}"

    def key(self) -> int:
        self.keys += 1
        return self.keys

    # People.

    def given(self, title: str) -> str:
        p = self.pools
        if title == "mr":
            return self.rng.choices(p.male, p.male_weights)[0]
        return self.rng.choices(p.female, p.female_weights)[0]

    def family(self) -> str:
        return self.rng.choices(self.pools.family, self.pools.family_weights)[0]

    def birth(self, first: int, last: int) -> datetime.date:
        start = datetime.date(first, 1, 1).toordinal()
        return datetime.date.fromordinal(self.rng.randrange(start, datetime.date(last, 12, 31).toordinal()))

    def street(self) -> str:
        return f"{self.rng.randrange(1, 160)} {self.rng.choice(self.pools.streets)}"[:38]

    def towns(self, count: int) -> list[tuple[str, str]]:
        towns = []
        for city in self.rng.sample(self.pools.cities, min(count, len(self.pools.cities))):
            towns.append((f"{self.rng.choice(self.pools.departments)}{self.rng.randrange(0, 100):02d}0", city))
        return sorted(set(towns))

    def person(self, *, title=None, given=None, family=None, town=None, born=(1940, 2004), household=0) -> Person:
        title = title or self.rng.choice(("mr", "ms"))
        given = given or self.given(title)
        family = family or self.family()
        postcode, city = town
        p = Person(key=self.key(), title=title, given=given, family=family,
                   birth_date=self.birth(*born) if self.rng.random() < 0.8 else None, postcode=postcode, city=city,
                   street=self.street(), household=household)  # fmt: skip
        if self.rng.random() < 0.75:
            p.emails.append(self.email(given, family))
        if self.rng.random() < 0.7:
            p.mobile = self.mobile()
        if self.rng.random() < 0.35:
            p.external_id = self.external_id()
        return p


def generate(existing: int = 20_000, incoming: int = 10_000, *, seed: int = SEED) -> Dataset:
    """The labelled population and file (deterministic for a seed)."""
    g = _Generator(seed)
    rng = g.rng
    towns = g.towns(max(8, existing // 400))
    town_weights = [1 / (rank + 1) ** 0.7 for rank in range(len(towns))]
    people: list[Person] = []
    by_town: dict[str, list[Person]] = {}

    def add(person: Person) -> Person:
        people.append(person)
        by_town.setdefault(person.postcode, []).append(person)
        return person

    # Six different "Loïc Leroy" of one town, each with his own identifiers (the case of issue 10).
    lille = towns[0]
    for _ in range(6):
        add(g.person(title="mr", given="Loïc", family="Leroy", town=lille, household=g.key()))
    household = 0
    while len(people) < existing:
        household += 1
        town = rng.choices(towns, town_weights)[0]
        neighbours = by_town.get(town[0], [])
        if neighbours and rng.random() < 0.15:
            # Named like someone of the same town (the town's other "Marie Martin").
            model = rng.choice(neighbours)
            head = g.person(title=model.title, given=model.given, family=model.family, town=town, household=household)
        else:
            head = g.person(town=town, household=household)
        add(head)
        if rng.random() >= 0.4:
            continue
        members = [head]
        partner_title = "ms" if head.title == "mr" else "mr"
        if rng.random() < 0.8:
            members.append(g.person(title=partner_title, family=head.family if rng.random() < 0.7 else None,
                                    town=town, household=household))  # fmt: skip
        for _child in range(rng.choice((0, 1, 1, 2, 2, 3))):
            title = rng.choice(("mr", "ms"))
            same_name = title == head.title and rng.random() < 0.15  # "Jean Martin" junior
            members.append(g.person(title=title, given=head.given if same_name else None, family=head.family,
                                    town=town, born=(1985, 2010), household=household))  # fmt: skip
        for member in members[1:]:
            member.street = head.street  # one address for the household
            add(member)
        if rng.random() < 0.6:
            mailbox = g.email("famille", head.family)
            for member in members:
                if rng.random() < 0.85:
                    member.emails.append(mailbox)
                    member.family_email = mailbox
        if rng.random() < 0.3:
            line = g.landline()
            for member in members:
                member.landline = line
    people = people[:existing]
    rows = _incoming(g, people, towns, incoming)
    return Dataset(existing=people, rows=rows, seed=seed)


# -- The incoming file ---------------------------------------------------------------------------


def _typo(rng: random.Random, name: str) -> str:
    """One typing slip inside ``name`` (substitution by a neighbouring key, deletion, swap, doubling)."""
    letters = [i for i, ch in enumerate(name) if ch.isalpha() and 0 < i < len(name)]
    for _ in range(10):
        i = rng.choice(letters) if letters else 0
        kind = rng.randrange(4)
        ch = name[i].lower()
        if kind == 0 and ch in KEYBOARD:
            typed = name[:i] + rng.choice(KEYBOARD[ch]) + name[i + 1 :]
        elif kind == 1 and len(name) > 4:
            typed = name[:i] + name[i + 1 :]
        elif kind == 2 and i + 1 < len(name):
            typed = name[:i] + name[i + 1] + name[i] + name[i + 2 :]
        else:
            typed = name[:i] + name[i] + name[i:]
        if _slug(typed) != _slug(name):
            return typed
    return name + "e"


def _email_typed(rng: random.Random, email: str) -> str:
    """The same address as a person types it (the normaliser folds the case and trims)."""
    style = rng.randrange(4)
    if style == 0:
        return email.upper()
    if style == 1:
        local, domain = email.split("@")
        return ".".join(part.capitalize() for part in local.split(".")) + "@" + domain.capitalize()
    if style == 2:
        return f"  {email} "
    return email


def _phone_typed(rng: random.Random, e164: str) -> str:
    national = "0" + e164[3:]
    pairs = " ".join(national[i : i + 2] for i in range(0, 10, 2))
    style = rng.randrange(7)
    return [pairs, national, "+33 " + e164[3] + " " + " ".join(e164[i : i + 2] for i in range(4, 12, 2)),
            "0033 " + e164[3] + " " + " ".join(e164[i : i + 2] for i in range(4, 12, 2)), pairs.replace(" ", "."),
            "+33 (0)" + e164[3] + " " + " ".join(e164[i : i + 2] for i in range(4, 12, 2)), e164][style]  # fmt: skip


def _name_typed(rng: random.Random, name: str) -> str:
    style = rng.randrange(4)
    if style == 0:
        return name.upper()
    if style == 1:
        return _strip_accents(name)
    if style == 2:
        return _strip_accents(name).lower()
    return name


def _retyped(g: _Generator, p: Person, number: int, variant: str, truth: tuple[str, int]) -> Row:
    """Every identifier of ``p``, typed another way."""
    rng = g.rng
    email = rng.choice(p.emails[:1] or [""])  # the personal address when there is one
    phone = p.mobile or p.landline
    return Row(number=number, variant=variant, truth=truth, email=_email_typed(rng, email) if email else "",
               phone=_phone_typed(rng, phone) if phone else "",
               external_id=p.external_id if rng.random() < 0.5 else "", given_name=_name_typed(rng, p.given),
               family_name=_name_typed(rng, p.family), postcode=p.postcode,
               street=p.street.upper() if rng.random() < 0.5 else p.street, birth_date=p.birth_date)  # fmt: skip


def _known_row(g: _Generator, people: list[Person], towns, number: int, variant: str) -> Row:
    rng = g.rng
    needs = {
        "another email, same mobile": lambda p: p.mobile,
        "another mobile, same email": lambda p: p.emails and p.mobile,
        "email and name only": lambda p: p.emails,
        "phone and name only": lambda p: p.mobile or p.landline,
        "name + birth date only": lambda p: p.birth_date,
        "external id, other details changed": lambda p: p.external_id,
        "family mailbox and own name": lambda p: p.family_email,
        "typo in a name": lambda p: p.emails or p.mobile or p.landline or p.external_id,
        "moved (another town and street)": lambda p: p.emails or p.mobile or p.landline or p.birth_date,
        "re-typed (case, accents, phone format)": lambda p: True,
    }.get(variant, lambda p: True)
    p = rng.choice(people)
    while not needs(p):
        p = rng.choice(people)
    row = _retyped(g, p, number, variant, ("known", p.key))
    if variant == "typo in a name":
        if rng.random() < 0.5:
            row.given_name = _typo(rng, p.given)
        else:
            row.family_name = _typo(rng, p.family)
    elif variant == "moved (another town and street)":
        row.postcode, _city = rng.choice(towns)
        row.street = g.street()
    elif variant == "another email, same mobile":
        row.email, row.phone = g.email(p.given, p.family), _phone_typed(rng, p.mobile)
    elif variant == "another mobile, same email":
        row.phone = _phone_typed(rng, g.mobile())
    elif variant == "email and name only":
        row.phone = row.street = row.postcode = row.external_id = ""
        row.birth_date = None
    elif variant == "phone and name only":
        row.email = row.street = row.postcode = row.external_id = ""
        row.birth_date = None
    elif variant == "name + birth date only":
        row.email = row.phone = row.street = row.postcode = row.external_id = ""
    elif variant == "name + street address only":
        row.email = row.phone = row.external_id = ""
        row.birth_date = None
    elif variant == "external id, other details changed":
        row.external_id = p.external_id
        row.email, row.phone = g.email(p.given, p.family), _phone_typed(rng, g.mobile())
        row.postcode, _city = rng.choice(towns)
        row.street = g.street()
    elif variant == "family mailbox and own name":
        row.email = _email_typed(rng, p.family_email)
        row.phone = row.external_id = ""
    elif variant.startswith("name + postcode only"):
        row.email = row.phone = row.street = row.external_id = ""
        row.birth_date = None
    return row


def _new_row(g: _Generator, people, by_household, towns, number: int, variant: str) -> list[Row]:
    rng = g.rng
    if variant == "namesake in the same town":
        model = rng.choice(people)
        p = g.person(title=model.title, given=model.given, family=model.family, town=(model.postcode, model.city))
        p.emails, p.mobile = [g.email(p.given, p.family)] if rng.random() < 0.7 else [], g.mobile()
        if rng.random() < 0.3:
            p.mobile = ""
            p.birth_date = p.birth_date or g.birth(1940, 2004)
    elif variant == "namesake at the same address (parent or child)":
        model = rng.choice(people)
        while not model.birth_date:  # what tells a parent from a child of the same name and address
            model = rng.choice(people)
        born = (1990, 2008) if model.birth_date.year < 1980 else (1935, 1960)
        p = g.person(title=model.title, given=model.given, family=model.family, town=(model.postcode, model.city),
                     born=born)  # fmt: skip
        p.street, p.birth_date = model.street, p.birth_date or g.birth(*born)
        same_name = [m for m in by_household[model.household] if _slug(m.given + m.family) == _slug(p.given + p.family)]
        if model.family_email and rng.random() < 0.5 and all(m.birth_date for m in same_name):
            p.emails = [model.family_email]  # only where a birth date tells every namesake of the mailbox apart
    elif variant in ("relative sharing the family mailbox", "relative sharing the landline"):
        wanted = "family_email" if "mailbox" in variant else "landline"
        model = rng.choice(people)
        while not getattr(model, wanted):
            model = rng.choice(people)
        given_names = {_slug(m.given) for m in by_household[model.household]}
        title = rng.choice(("mr", "ms"))
        given = g.given(title)
        while _slug(given) in given_names:
            given = g.given(title)
        p = g.person(title=title, given=given, family=model.family, town=(model.postcode, model.city),
                     born=(1985, 2010))  # fmt: skip
        p.street = model.street
        if wanted == "family_email":
            p.emails, p.mobile = [model.family_email], p.mobile if rng.random() < 0.5 else ""
        else:
            p.emails, p.mobile, p.landline = p.emails if rng.random() < 0.5 else [], "", model.landline
    else:
        p = g.person(town=rng.choice(towns))
        if not (p.emails or p.mobile or p.birth_date):
            p.mobile = g.mobile()
    truth = ("new", p.key)
    row = _retyped(g, p, number, variant, truth)
    row.email = _email_typed(rng, p.emails[0]) if p.emails else ""
    row.phone = _phone_typed(rng, p.mobile or p.landline) if (p.mobile or p.landline) else ""
    row.external_id = p.external_id
    if variant != "new person twice in the file":
        return [row]
    again = _retyped(g, p, number + 1, variant, truth)
    again.external_id = p.external_id
    return [row, again]


def _incoming(g: _Generator, people: list[Person], towns, count: int) -> list[Row]:
    rng = g.rng
    by_household: dict[int, list[Person]] = {}
    for p in people:
        by_household.setdefault(p.household, []).append(p)
    known, new = list(KNOWN_VARIANTS), list(NEW_VARIANTS)
    rows: list[Row] = []
    while len(rows) < count:
        if rng.random() < KNOWN_SHARE:
            rows.append(_known_row(g, people, towns, len(rows), rng.choices(known, KNOWN_VARIANTS.values())[0]))
        else:
            variant = rng.choices(new, NEW_VARIANTS.values())[0]
            rows.extend(_new_row(g, people, by_household, towns, len(rows), variant))
    rows = rows[:count]
    rng.shuffle(rows)
    for number, row in enumerate(rows, start=1):
        row.number = number
    return rows
