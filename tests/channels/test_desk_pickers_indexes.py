"""The service desk at scale: the staff search picker where a case is assigned (no select of every
staff member), the supervisor view reading open cases through their partial indexes, indexed search."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from channels.choices import CaseStatus
from channels.selectors_desk import CaseFilters, case_list_queryset, supervisor_agents, supervisor_queues
from crm import roles
from tests.channels_factories import CaseFactory, QueueFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def crowd(make_staff):
    """Thirty agents; two named so that a search tells them apart."""
    people = [make_staff(roles.AGENT, username=f"crowd{i}", first_name="Paul", last_name=f"Crowd{i}")
              for i in range(28)]  # fmt: skip
    people.append(make_staff(roles.AGENT, username="anne.martin", first_name="Anne", last_name="Martin"))
    people.append(make_staff(roles.AGENT, username="annie.roux", first_name="Annie", last_name="Roux"))
    return people


def test_the_supervisor_page_assigns_through_a_search_picker_not_a_select_of_everyone(client, supervisor, crowd):
    anne = crowd[-2]
    queue = QueueFactory(name="Billing", slug="billing")
    CaseFactory.create_batch(5, queue=queue, assignee=None, status="new")
    held = CaseFactory(queue=queue, assignee=anne, resolution_breached=True)
    client.force_login(supervisor)

    page = client.get(reverse("channels:supervisor")).content.decode()

    attention = page[page.index('data-testid="supervisor-attention"') :]
    assert attention.count('data-testid="attention-row"') == 6
    assert "<option" not in attention and "Paul Crowd" not in page  # a select would hold 6 x 31 staff
    assert attention.count('role="combobox"') == 6
    picker_url = reverse("channels:staff_picker_hx")
    assert f'hx-get="{picker_url}"' in page
    # The row of a held case shows who holds it, and carries the id the form posts.
    row = page[page.index(f'id="assignee-{held.pk}"') - 600 : page.index(f'id="assignee-{held.pk}"') + 400]
    assert f'name="assignee" value="{anne.pk}"' in row and 'value="Anne Martin"' in row


def test_the_staff_picker_searches_by_name_and_offers_nobody(client, supervisor, crowd, marketer):
    anne, annie = crowd[-2], crowd[-1]
    client.force_login(supervisor)
    url = reverse("channels:staff_picker_hx")

    ann = client.get(url, {"q": "ann"}, HTTP_HX_REQUEST="true").content.decode()
    anne_only = client.get(url, {"q": "anne mar"}, HTTP_HX_REQUEST="true").content.decode()
    many = client.get(url, {"q": "paul"}, HTTP_HX_REQUEST="true").content.decode()
    nothing = client.get(url, {"q": "zzz"}, HTTP_HX_REQUEST="true").content.decode()
    french = client.get(url, {"q": "zzz"}, HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert 'role="listbox"' in ann and 'role="option"' in ann
    assert re.findall(r'data-value="(\d*)"', ann) == ["", str(anne.pk), str(annie.pk)]  # "Nobody" first
    assert ">Nobody</button>" in ann
    assert re.findall(r'data-value="(\d+)"', anne_only) == [str(anne.pk)]
    assert len(re.findall(r'data-value="(\d+)"', many)) == 20 and "More match: type more" in many
    assert "Nothing matches “zzz”." in nothing
    assert "Personne" in french and "Nobody" not in french
    client.force_login(marketer)  # may not assign cases
    assert client.get(url, {"q": "ann"}).status_code == 403


def test_a_case_page_assigns_through_the_picker_and_the_form_still_checks_the_person(client, supervisor, crowd,
                                                                                   marketer):  # fmt: skip
    anne = crowd[-2]
    case = CaseFactory(assignee=None)
    client.force_login(supervisor)

    detail = client.get(reverse("channels:case_detail", kwargs={"pk": case.pk})).content.decode()
    form = detail[detail.index('data-testid="assign-form"') :]
    form = form[: form.index("</form>")]
    assert 'id="id_assignee"' in form and 'role="combobox"' in form and "Paul Crowd" not in form
    assign = reverse("channels:case_assign", kwargs={"pk": case.pk})
    client.post(assign, {"assignee": anne.pk, "q": "Anne Martin"})
    case.refresh_from_db()
    refused = client.post(assign, {"assignee": marketer.pk, "q": "x"}, follow=True).content.decode()

    assert case.assignee == anne
    case.refresh_from_db()
    assert case.assignee == anne and "Select a valid choice" in refused
    again = client.get(reverse("channels:case_detail", kwargs={"pk": case.pk})).content.decode()
    assert f'name="assignee" value="{anne.pk}"' in again and 'value="Anne Martin"' in again


def _plans(run, *, bitmap_only: bool = False) -> list[str]:
    """The plans PostgreSQL would choose for the queries ``run`` makes, sequential scans discouraged
    (on a tiny test table the planner would rather read it all; this asks whether the index can serve).
    ``bitmap_only`` also discourages plain index scans, which on a tiny table may walk any b-tree and
    filter: a GIN index (trigrams) serves only through a bitmap scan."""
    with CaptureQueriesContext(connection) as captured:
        run()
    plans = []
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        if bitmap_only:
            cursor.execute("SET LOCAL enable_indexscan = off")
            cursor.execute("SET LOCAL enable_indexonlyscan = off")
        for query in captured.captured_queries:
            cursor.execute("EXPLAIN " + query["sql"])
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
        cursor.execute("SET LOCAL enable_seqscan = on")
        cursor.execute("SET LOCAL enable_indexscan = on")
        cursor.execute("SET LOCAL enable_indexonlyscan = on")
    return plans


def test_the_supervisor_figures_read_open_cases_only_through_the_partial_index(agent):
    queue = QueueFactory()
    CaseFactory.create_batch(3, queue=queue, assignee=agent)
    closed = CaseFactory(queue=queue, assignee=agent, status=CaseStatus.CLOSED, resolution_breached=True)

    queues_plan = " ".join(_plans(supervisor_queues))
    agents_plan = " ".join(_plans(supervisor_agents))

    # Served by an index over open cases only (at 150k cases, an index-only scan of case_open_load:
    # docs/benchmarks.md); never a scan of the whole table, closed cases included.
    for plan in (queues_plan, agents_plan):
        assert "Seq Scan on channels_case" not in plan
        assert re.search(r"Index (Only )?Scan on case_(open_load|assignee_open|queue_open)\b", plan) or re.search(
            r"using case_(open_load|assignee_open|queue_open)\b", plan
        ), plan
    row = next(q for q in supervisor_queues() if q.pk == queue.pk)
    assert (row.open_count, row.resolution_breached_count) == (3, 0)  # the closed, breached case is not counted
    assert closed.pk  # (it exists)


def test_the_attention_list_and_the_case_search_use_their_indexes(supervisor):
    from channels.selectors_desk import case_page, supervisor_attention

    found = CaseFactory(subject="Remboursement de la facture de mars")
    CaseFactory.create_batch(3, subject="Autre chose")

    attention = " ".join(_plans(supervisor_attention))
    by_subject = " ".join(_plans(lambda: case_page(queryset=case_list_queryset(
        filters=CaseFilters(q="rembours"), user=supervisor)), bitmap_only=True))  # fmt: skip
    by_number = [case.pk for case in case_list_queryset(filters=CaseFilters(q=found.number.lower()), user=supervisor)]

    assert "case_open_attention" in attention
    assert "case_subject_trgm" in by_subject
    assert by_number == [found.pk]  # a number typed in lower case still finds its case
    assert [c.pk for c in case_list_queryset(filters=CaseFilters(q="REMBOURS"), user=supervisor)] == [found.pk]
