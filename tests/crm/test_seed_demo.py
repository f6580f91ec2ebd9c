"""seed_demo: the demo logins exist with their roles, and a second run changes nothing."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management import call_command

from crm.demo import DEMO_LOGINS


def test_it_creates_the_demo_logins_and_is_idempotent(db, settings, client):
    call_command("seed_demo", "--customers", "10", verbosity=0)
    User = get_user_model()
    count = User.objects.count()
    call_command("seed_demo", "--customers", "10", verbosity=0)
    assert User.objects.count() == count

    for username, role, *_ in DEMO_LOGINS:
        user = User.objects.get(username=username)
        assert user.role_names == [role]
        assert user.check_password(settings.DEMO_PASSWORD)
    assert User.objects.filter(groups__name="Agent").count() >= 10
    assert User.objects.get(username="admin").is_superuser

    response = client.post("/accounts/login/", {"username": "agent", "password": settings.DEMO_PASSWORD})
    assert response.status_code == 302
