"""Each role's home page shows what that role can do, with real figures; the team list stays cheap."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crm import roles
from crm.models import ApiToken


def nav_keys(response) -> set[str]:
    return {item.key for item in response.context["nav_items"]}


def test_an_agent_sees_their_tools_and_not_the_supervisors(client, agent):
    client.force_login(agent)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert nav_keys(response) == {
        "home",
        "customers",
        "duplicates",
        "my_work",
        "cases",
        "phone_console",
        "chats",
        "api_tokens",
        "api_docs",
    }
    content = response.content.decode()
    assert "Sales and service agents" in content
    assert 'data-testid="staff-counts"' not in content
    assert 'data-testid="ops"' not in content


def test_a_supervisor_sees_the_team_with_counts_per_role(client, supervisor, make_staff):
    make_staff(roles.AGENT, username="a1")
    make_staff(roles.AGENT, username="a2")
    client.force_login(supervisor)
    response = client.get(reverse("home"))
    assert "team" in nav_keys(response)
    assert response.context["staff_counts"][roles.AGENT] == 2
    assert response.context["staff_counts"][roles.SUPERVISOR] == 1


def test_a_marketer_sees_neither_team_nor_operations(client, marketer):
    client.force_login(marketer)
    response = client.get(reverse("home"))
    assert nav_keys(response) == {"home", "customers", "cases", "letter_batches", "api_tokens", "api_docs",
                                  "segments", "campaigns", "campaign_templates"}
    assert "Marketing: segments" in response.content.decode()


def test_an_admin_sees_operations_figures(client, admin_staff, agent):
    ApiToken.objects.create(user=agent, name="ERP", prefix="rls_x", key_hash="0" * 64)
    client.force_login(admin_staff)
    response = client.get(reverse("home"))
    assert {"team", "operations", "admin"} <= nav_keys(response)
    assert response.context["ops"]["all_tokens"]["active"] == 1


def test_staff_without_a_role_are_told_to_ask_for_one(client, make_staff):
    client.force_login(make_staff(None, username="newcomer"))
    response = client.get(reverse("home"))
    assert b"You have no role yet" in response.content


@pytest.mark.parametrize("count", [5, 40])
def test_the_team_page_query_count_does_not_grow_with_the_team(client, supervisor, make_staff, count,
                                                                django_assert_max_num_queries):  # fmt: skip
    for index in range(count):
        make_staff(roles.AGENT, username=f"member{index}")
    client.force_login(supervisor)
    with django_assert_max_num_queries(9):
        response = client.get(reverse("team"))
    assert response.status_code == 200
    assert len(response.context["page"]) == min(count + 1, 50)


def test_the_team_page_filters_by_role(client, supervisor, make_staff):
    make_staff(roles.MARKETER, username="mkt")
    client.force_login(supervisor)
    response = client.get(reverse("team"), {"role": roles.MARKETER})
    assert [member.username for member in response.context["page"]] == ["mkt"]


def test_the_account_page_saves_the_language_and_sets_the_cookie(client, agent, settings):
    client.force_login(agent)
    response = client.post(
        reverse("account"),
        {
            "first_name": "Léa",
            "last_name": "Dubois",
            "email": "lea@relais.test",
            "language": "fr",
            "phone_extension": "204",
        },
    )
    assert response.status_code == 302
    agent.refresh_from_db()
    assert (agent.language, agent.phone_extension) == ("fr", "204")
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"


def test_the_account_page_rejects_a_bad_email(client, agent):
    client.force_login(agent)
    response = client.post(reverse("account"), {"email": "not-an-email", "language": "en"})
    assert response.status_code == 200
    assert b"Enter a valid email address" in response.content
    agent.refresh_from_db()
    assert agent.email != "not-an-email"
