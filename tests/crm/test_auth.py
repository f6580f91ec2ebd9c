"""Signing in and out, failed-login throttling, password change and reset through a real SMTP server."""

from __future__ import annotations

import re
from email import message_from_bytes, policy

from axes.models import AccessAttempt
from django.core import mail
from django.urls import reverse

from tests.factories import PASSWORD


def sign_in(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_it_signs_in_and_out(client, agent):
    response = sign_in(client, agent.username, PASSWORD)
    assert response.status_code == 302 and response.url == reverse("home")
    assert client.get(reverse("home")).status_code == 200

    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302


def test_it_says_what_is_wrong_with_bad_credentials(client, agent):
    response = sign_in(client, agent.username, "wrong password")
    assert response.status_code == 200
    assert b"correct username and password" in response.content
    assert "_auth_user_id" not in client.session


def test_it_locks_sign_in_after_repeated_failures(client, agent, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, agent.username, "wrong").status_code == 200

    locked = sign_in(client, agent.username, "wrong")
    assert locked.status_code == 429
    assert b"locked-out" in locked.content

    # Even the right password is refused while the lock holds.
    assert sign_in(client, agent.username, PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session
    assert AccessAttempt.objects.filter(username=agent.username).exists()


def test_a_lock_on_one_account_does_not_block_a_teammate(client, agent, make_staff, settings):
    teammate = make_staff("Agent", username="teammate")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, agent.username, "wrong")
    assert sign_in(client, teammate.username, PASSWORD).status_code == 302


def test_it_changes_the_password(client, agent):
    client.force_login(agent)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a new long passphrase 42",
            "new_password2": "a new long passphrase 42",
        },
    )
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.check_password("a new long passphrase 42")


def test_it_rejects_a_weak_new_password_with_the_reason(client, agent):
    client.force_login(agent)
    response = client.post(
        reverse("password_change"), {"old_password": PASSWORD, "new_password1": "123", "new_password2": "123"}
    )
    assert response.status_code == 200
    assert b"too short" in response.content
    agent.refresh_from_db()
    assert agent.check_password(PASSWORD)


def test_password_reset_mail_goes_through_smtp_and_the_link_works(client, agent, smtp_sink):
    response = client.post(reverse("password_reset"), {"email": agent.email})
    assert response.status_code == 302

    assert len(smtp_sink.envelopes) == 1
    envelope = smtp_sink.envelopes[0]
    assert envelope.rcpt_tos == [agent.email]
    message = message_from_bytes(envelope.original_content, policy=policy.default)
    assert "Relais" in message["Subject"]
    link = re.search(r"https?://[^/]+(/accounts/password/reset/[^\s]+/)", message.get_content()).group(1)

    form = client.get(link, follow=True)
    assert form.status_code == 200 and b"new_password1" in form.content
    done = client.post(
        form.redirect_chain[-1][0] if form.redirect_chain else link,
        {"new_password1": "reset passphrase 2026", "new_password2": "reset passphrase 2026"},
    )
    assert done.status_code == 302
    agent.refresh_from_db()
    assert agent.check_password("reset passphrase 2026")
    assert client.get(link, follow=True).context["validlink"] is False


def test_password_reset_says_nothing_about_unknown_addresses(client, db):
    response = client.post(reverse("password_reset"), {"email": "nobody@relais.test"})
    assert response.status_code == 302
    assert mail.outbox == []
