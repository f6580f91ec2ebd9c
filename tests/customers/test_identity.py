"""Identity resolution: exact identifiers first, then fuzzy names; ambiguity is never silently picked."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from crm.errors import ApplicationError
from customers.models import Customer
from customers.services.identity import identity_resolve
from customers.services.records import AddressInput, CustomerInput, customer_create

pytestmark = pytest.mark.django_db


def make(given="Marie", family="Martin", *, emails=(), phones=(), postcode=None, city="Paris", birth_date=None,
         external_ids=None, company=""):  # fmt: skip
    addresses = [AddressInput(city=city, postcode=postcode, line4="3 rue des Lilas")] if postcode else []
    return customer_create(
        data=CustomerInput(
            given_name=given,
            family_name=family,
            company_name=company,
            emails=list(emails),
            phones=list(phones),
            addresses=addresses,
            birth_date=birth_date,
            external_ids=external_ids or {},
        )  # fmt: skip
    )


@pytest.mark.parametrize("typed", ["06 12 34 56 78", "+33612345678", "0033 6 12 34 56 78", "+33 (0)6 12 34 56 78",
                                   "06.12.34.56.78"])  # fmt: skip
def test_it_finds_a_customer_by_phone_typed_in_any_format(typed):
    marie = make(phones=["06 12 34 56 78"])
    make("Jean", "Dupont", phones=["06 99 99 99 99"])

    result = identity_resolve(phone=typed)

    assert result.match == marie
    assert result.confidence >= 0.8
    assert result.reasons == ["phone"]


def test_it_finds_a_customer_by_email_whatever_the_case():
    marie = make(emails=["marie.martin@example.fr"])

    result = identity_resolve(email="  Marie.MARTIN@Example.FR ")

    assert result.match == marie
    assert "email" in result.reasons


def test_it_finds_a_customer_by_account_number_in_lower_case():
    marie = make()

    result = identity_resolve(account_number=marie.account_number.lower())

    assert result.match == marie
    assert result.confidence >= 0.99


def test_it_finds_a_customer_by_external_id():
    marie = make(external_ids={"erp": "ERP-42"})

    assert identity_resolve(external_id=("erp", "ERP-42")).match == marie
    assert identity_resolve(external_id=("eshop", "ERP-42")).match is None


def test_it_follows_a_merged_customer_to_its_survivor():
    survivor = make()
    tombstone = make("Marie", "Martin", emails=["old@example.fr"])
    Customer.objects.filter(pk=tombstone.pk).update(merged_into=survivor, merged_at=timezone.now())

    result = identity_resolve(email="old@example.fr")

    assert result.match == survivor
    assert "merged_record" in result.reasons


def test_it_never_returns_an_anonymised_customer():
    gone = make(emails=["gone@example.fr"])
    Customer.objects.filter(pk=gone.pk).update(anonymised_at=timezone.now())

    result = identity_resolve(email="gone@example.fr")

    assert result.match is None
    assert result.candidates == []


def test_a_name_and_postcode_alone_never_match_but_flag_a_possible_duplicate():
    marie = make("Marie", "Lefèvre", postcode="75011")
    make("Marie", "Lefèvre", postcode="69003")
    make("Paul", "Durand", postcode="75011")

    result = identity_resolve(given_name="marie", family_name="Lefevre", postcode="75011")

    assert result.match is None and result.outcome == "possible_duplicate" and result.review == [marie]
    assert set(result.candidates[0].reasons) >= {"name", "postcode"}
    assert [c.customer for c in result.candidates][0] == marie


def test_a_name_and_the_same_street_address_match():
    marie = make("Marie", "Lefèvre", postcode="75011")

    result = identity_resolve(given_name="Marie", family_name="Lefevre", postcode="75011", street="3 rue des lilas")

    assert result.match == marie and "address" in result.reasons


def test_it_returns_a_typo_as_a_candidate_with_its_reasons():
    marie = make("Marie", "Lefèvre", postcode="75011")

    result = identity_resolve(given_name="Marie", family_name="Lefebvre", postcode="75011")

    assert [c.customer for c in result.candidates] == [marie]
    assert "similar_name" in result.candidates[0].reasons


def test_it_matches_a_name_and_birth_date():
    born = datetime.date(1980, 5, 17)
    jean = make("Jean", "Dupont", birth_date=born)
    make("Jean", "Dupont", birth_date=datetime.date(1991, 2, 3))

    result = identity_resolve(given_name="Jean", family_name="Dupont", birth_date=born)

    assert result.match == jean
    assert "birth_date" in result.reasons


def test_it_returns_two_namesakes_in_the_same_postcode_as_candidates_without_a_match():
    first = make("Marie", "Martin", postcode="75011")
    second = make("Marie", "Martin", postcode="75011")

    result = identity_resolve(given_name="Marie", family_name="Martin", postcode="75011")

    assert result.match is None
    assert {c.customer for c in result.candidates} == {first, second}
    assert all(set(c.reasons) >= {"name", "postcode"} for c in result.candidates)


def test_it_does_not_match_on_a_name_alone():
    marie = make("Marie", "Lefèvre", postcode="75011")

    result = identity_resolve(given_name="Marie", family_name="Lefèvre")

    assert result.match is None
    assert [c.customer for c in result.candidates] == [marie]


def test_it_returns_a_shared_mailbox_as_candidates_unless_the_name_decides():
    marie = make("Marie", "Martin", emails=["famille@example.fr"])
    paul = make("Paul", "Martin", emails=["famille@example.fr"])

    ambiguous = identity_resolve(email="famille@example.fr")
    decided = identity_resolve(email="famille@example.fr", given_name="Paul", family_name="Martin")

    assert ambiguous.match is None
    assert {c.customer for c in ambiguous.candidates} == {marie, paul}
    assert decided.match == paul


def test_a_shared_mailbox_with_a_name_only_close_to_one_holder_is_a_relative_to_review_not_a_match():
    lucie = make("Lucie", "Martin", emails=["famille.martin@example.fr"], birth_date=datetime.date(1980, 5, 1))
    make("Paul", "Martin", emails=["famille.martin@example.fr"])
    own = make("Jeanne", "Durand", emails=["jeanne.durand@example.fr"])

    # Luce, Lucie's daughter, writes from the family mailbox: "Luce" is close to "Lucie", but a
    # mailbox two customers share does not tell them apart, so nobody's record receives her row.
    relative = identity_resolve(email="famille.martin@example.fr", given_name="Luce", family_name="Martin")
    # The same mailbox with the holder's very name, or her birth date, still decides; and a typo in
    # the name behind a mailbox of one's own is still the same person.
    lucie_again = identity_resolve(email="famille.martin@example.fr", given_name="Lucie", family_name="MARTIN")
    lucie_born = identity_resolve(email="famille.martin@example.fr", given_name="Luci", family_name="Martin",
                                  birth_date=datetime.date(1980, 5, 1))  # fmt: skip
    typo = identity_resolve(email="jeanne.durand@example.fr", given_name="Jeane", family_name="Durand")

    assert relative.match is None and relative.outcome == "possible_duplicate"
    assert lucie in relative.review
    assert lucie_again.match == lucie and lucie_born.match == lucie
    assert typo.match == own


def test_it_returns_conflicting_identifiers_as_candidates():
    marie = make(emails=["marie@example.fr"])
    jean = make("Jean", "Dupont", phones=["0612345678"])

    result = identity_resolve(email="marie@example.fr", phone="06 12 34 56 78")

    assert result.match is None
    assert {c.customer for c in result.candidates} == {marie, jean}


@pytest.mark.parametrize(("field", "value"), [("email", "not-an-email"), ("phone", "12")])
def test_it_refuses_an_invalid_email_or_phone_naming_the_field(field, value):
    with pytest.raises(ApplicationError) as error:
        identity_resolve(**{field: value})

    assert error.value.field == field


def test_it_returns_nothing_when_nothing_matches():
    make()

    result = identity_resolve(email="nobody@example.fr", given_name="Zébulon", family_name="Xylophone")

    assert result.match is None
    assert result.candidates == []
    assert result.confidence == 0.0


def test_it_keeps_the_sessions_trigram_threshold(django_db_blocker):
    from django.db import connection

    make("Marie", "Lefèvre")
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('pg_trgm.similarity_threshold', '0.3', false)")
    identity_resolve(given_name="Marie", family_name="Lefevre")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('pg_trgm.similarity_threshold')")
        assert float(cursor.fetchone()[0]) == pytest.approx(0.3)


def test_name_and_postcode_follow_renames_moves_and_removed_addresses():
    from customers.services.records import address_remove, address_update, customer_update

    marie = make("Marie", "Lefèvre", postcode="75011")

    def at_postcode(given, family, postcode):
        """Customers found with the postcode as a reason (without one, the name-only search still answers)."""
        result = identity_resolve(given_name=given, family_name=family, postcode=postcode)
        return [c.customer for c in result.candidates if "postcode" in c.reasons]

    customer_update(customer=marie, family_name="Garnier")
    assert at_postcode("Marie", "Garnier", "75011") == [marie]
    assert identity_resolve(given_name="Marie", family_name="Lefèvre", postcode="75011").candidates == []

    address = marie.addresses.get()
    address_update(address=address, data=AddressInput(city="Lyon", postcode="69003", line4="3 rue des Lilas"))
    assert at_postcode("Marie", "Garnier", "69003") == [marie]
    assert at_postcode("Marie", "Garnier", "75011") == []

    address_remove(address=marie.addresses.get())
    assert at_postcode("Marie", "Garnier", "69003") == []


def _file(*rows):
    """Rows of one file decided against the database, then settled against each other (as an import does)."""
    from customers.services.identity import evidence_build, identity_resolve_many, identity_within_batch

    evidence = [evidence_build(**row) for row in rows]
    decisions = identity_resolve_many(evidence)
    settled = identity_within_batch(
        [(n, e, d) for n, (e, d) in enumerate(zip(evidence, decisions, strict=True), start=1)]
    )
    return decisions, {row.number: row for row in settled.rows}, settled.review_pairs


def test_a_row_in_doubt_between_two_namesakes_is_not_settled_by_another_row_of_the_file():
    """Found by the identity benchmark: a mother and her daughter of one name at one address."""
    mother = make("Aurélie", "Petit", emails=["aurelie.petit@free.fr"], postcode="29040",
                  birth_date=datetime.date(1962, 4, 1))  # fmt: skip
    daughter = make("Aurélie", "Petit", postcode="29040", birth_date=datetime.date(1991, 9, 12))
    lines = {"postcode": "29040", "street": "3 rue des Lilas"}  # where make() puts them both

    decisions, rows, pairs = _file(
        dict(email="aurelie.petit@free.fr", given_name="Aurélie", family_name="Petit", **lines),
        dict(given_name="Aurelie", family_name="PETIT", **lines),  # which of the two?
    )

    assert decisions[0].outcome == "match" and decisions[0].customer_id == mother.pk
    assert decisions[1].outcome == "possible_duplicate" and set(decisions[1].review_ids) == {mother.pk, daughter.pk}
    assert rows[2].action == "write"  # created, not written into the mother
    assert [(a, b) for a, b, _reasons in pairs] == [(1, 2)]


def test_a_row_with_few_identifiers_does_not_chain_a_father_and_his_son_into_one_record():
    """Found by the identity benchmark: same name, same address, other birth dates, and a row with neither."""
    home = {"given_name": "Jean", "family_name": "Martin", "postcode": "75011", "street": "3 rue des Lilas"}

    _decisions, rows, pairs = _file(
        dict(birth_date=datetime.date(1950, 3, 2), **home),
        dict(**home),
        dict(birth_date=datetime.date(1990, 7, 14), **home),
    )

    assert rows[3].action == "write"  # the son is not the father
    assert rows[2].action == "duplicate" and rows[2].of_row == 1
    assert (2, 3) in {(a, b) for a, b, _reasons in pairs} or (1, 3) in {(a, b) for a, b, _reasons in pairs}


def test_a_new_namesake_with_a_birth_date_is_not_settled_into_a_customer_through_a_row_without_one():
    """Found by the identity benchmark: the son's row joins the father's row (name and street only)."""
    father = make("Jean", "Petit", postcode="75011", birth_date=datetime.date(1950, 3, 2))
    home = {"given_name": "Jean", "family_name": "Petit", "postcode": "75011", "street": "3 rue des Lilas"}

    decisions, rows, pairs = _file(
        dict(**home),  # the father again, by name and street
        dict(email="jean.petit.fils@example.fr", birth_date=datetime.date(1985, 6, 1), **home),  # the son
    )

    assert decisions[0].outcome == "match" and decisions[0].customer_id == father.pk
    assert decisions[1].outcome != "match"  # the father's birth date speaks against it
    assert rows[1].action == "write" and rows[2].action == "write"  # the son is created, not folded in
    assert [(a, b) for a, b, _reasons in pairs] == [(1, 2)]
