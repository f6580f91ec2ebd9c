"""The SMS providers: the HTTP adapter against a real local server, the console provider, the choice."""

from __future__ import annotations

import pytest

from channels.sms import ConsoleSmsProvider, HttpSmsProvider, SmsProviderError, sms_provider
from channels.sms.console import console_outbox, console_outbox_clear
from channels.sms.encoding import sms_segments
from tests.fake_sms_server import FakeSmsServer


@pytest.fixture
def fake_sms():
    server = FakeSmsServer().start()
    yield server
    server.stop()


def _provider(server: FakeSmsServer, **options) -> HttpSmsProvider:
    return HttpSmsProvider(url=server.url, token=server.token, timeout=options.pop("timeout", 2), backoff=0,
                           **options)  # fmt: skip


def test_it_posts_the_generic_json_with_the_bearer_token(fake_sms):
    result = _provider(fake_sms).send(to_e164="+33612345678", body="Votre colis arrive demain.", sender="RELAIS")

    assert result.message_id == "fake-000001"
    assert result.status == "queued"
    [request] = fake_sms.received
    assert request.path == "/messages"
    assert request.headers["Authorization"] == "Bearer test-sms-token"
    assert request.headers["Content-Type"] == "application/json"
    assert request.body == {"to": "+33612345678", "from": "RELAIS", "text": "Votre colis arrive demain."}


def test_it_raises_the_providers_message_on_a_refusal_without_retrying(fake_sms):
    fake_sms.fail_next(400, {"error": {"message": "Number +33600000000 is not a mobile"}})

    with pytest.raises(SmsProviderError) as raised:
        _provider(fake_sms).send(to_e164="+33600000000", body="Bonjour", sender="RELAIS")

    assert raised.value.permanent is True
    assert raised.value.status_code == 400
    assert "Number +33600000000 is not a mobile" in raised.value.message
    assert len(fake_sms.received) == 1


def test_it_reports_a_wrong_token_as_a_permanent_error(fake_sms):
    provider = HttpSmsProvider(url=fake_sms.url, token="wrong", timeout=2, backoff=0)

    with pytest.raises(SmsProviderError) as raised:
        provider.send(to_e164="+33612345678", body="Bonjour", sender="RELAIS")

    assert raised.value.status_code == 401
    assert "Invalid API token" in raised.value.message
    assert len(fake_sms.received) == 1


def test_it_retries_a_server_error_and_then_succeeds(fake_sms):
    fake_sms.fail_next(503, {"message": "maintenance"})

    result = _provider(fake_sms).send(to_e164="+33612345678", body="Bonjour", sender="RELAIS")

    assert result.message_id == "fake-000002"
    assert len(fake_sms.received) == 2


def test_it_gives_up_after_its_retries_and_says_how_many_attempts(fake_sms):
    fake_sms.fail_next(503, {"message": "upstream down"}, times=5)

    with pytest.raises(SmsProviderError) as raised:
        _provider(fake_sms, retries=2).send(to_e164="+33612345678", body="Bonjour", sender="RELAIS")

    assert raised.value.permanent is False
    assert raised.value.attempts == 3
    assert "attempt 3" in raised.value.message and "upstream down" in raised.value.message
    assert len(fake_sms.received) == 3
    assert fake_sms.sent == []


def test_it_times_out_on_a_provider_that_does_not_answer(fake_sms):
    fake_sms.delay = 1.0

    with pytest.raises(SmsProviderError) as raised:
        _provider(fake_sms, timeout=0.2, retries=0).send(to_e164="+33612345678", body="Bonjour", sender="RELAIS")

    assert raised.value.permanent is False
    assert "did not answer within 0.2 s" in raised.value.message


def test_it_does_not_resend_an_sms_the_slow_provider_already_took(fake_sms):
    """The provider takes the SMS, then answers after the timeout: with the default retries, sending
    again would text the customer three times."""
    fake_sms.delay = 0.6

    with pytest.raises(SmsProviderError) as raised:
        _provider(fake_sms, timeout=0.2).send(to_e164="+33612345678", body="Votre code : 4821", sender="RELAIS")

    assert len(fake_sms.received) == 1
    assert [message["text"] for message in fake_sms.sent] == ["Votre code : 4821"]
    assert raised.value.attempts == 1 and raised.value.permanent is False
    assert "may have been sent" in raised.value.message


@pytest.mark.parametrize("status", [500, 502, 504])
def test_it_does_not_resend_after_a_server_error_that_may_follow_a_sent_sms(fake_sms, status):
    fake_sms.fail_next(status, {"message": "oops"})

    with pytest.raises(SmsProviderError) as raised:
        _provider(fake_sms).send(to_e164="+33612345678", body="Bonjour", sender="RELAIS")

    assert len(fake_sms.received) == 1 and raised.value.status_code == status
    assert "may have been sent" in raised.value.message


def test_it_retries_a_provider_that_refuses_connections_and_says_so():
    server = FakeSmsServer().start()
    url = server.url
    server.stop()  # the port is closed now: connections are refused before anything is sent

    with pytest.raises(SmsProviderError) as raised:
        HttpSmsProvider(url=url, token="t", timeout=1, backoff=0).send(to_e164="+33612345678", body="Bonjour",
                                                                       sender="RELAIS")  # fmt: skip

    assert raised.value.attempts == 3
    assert "cannot be reached (attempt 3)" in raised.value.message


def test_every_attempt_of_one_sms_carries_the_same_idempotency_key(fake_sms):
    fake_sms.fail_next(429, {"message": "slow down"})

    _provider(fake_sms).send(to_e164="+33612345678", body="Bonjour", sender="RELAIS")
    _provider(fake_sms).send(to_e164="+33612345678", body="Bonsoir", sender="RELAIS")

    keys = [request.headers["Idempotency-Key"] for request in fake_sms.received]
    assert len(keys) == 3 and keys[0] == keys[1] != keys[2]


def test_with_a_provider_that_honours_the_key_a_slow_answer_is_retried_and_sent_once(fake_sms):
    fake_sms.slow_next(0.6)

    result = _provider(fake_sms, timeout=0.2, idempotent=True).send(to_e164="+33612345678", body="Bonjour",
                                                                    sender="RELAIS")  # fmt: skip

    assert len(fake_sms.received) == 2
    assert fake_sms.sent == [{"id": "fake-000001", "to": "+33612345678", "from": "RELAIS", "text": "Bonjour"}]
    assert result.message_id == "fake-000001"


def test_settings_say_whether_the_provider_honours_the_idempotency_key(settings, fake_sms):
    settings.SMS_PROVIDER, settings.SMS_HTTP_URL, settings.SMS_HTTP_TOKEN = "http", fake_sms.url, "t"
    assert sms_provider().idempotent is False
    settings.SMS_HTTP_IDEMPOTENT = True
    assert sms_provider().idempotent is True


def test_it_refuses_a_success_without_a_message_id_and_does_not_resend(fake_sms):
    fake_sms.fail_next(200, {"status": "ok"})

    with pytest.raises(SmsProviderError) as raised:
        _provider(fake_sms).send(to_e164="+33612345678", body="Bonjour", sender="RELAIS")

    assert "without a message id" in raised.value.message
    assert len(fake_sms.received) == 1


def test_the_console_provider_keeps_the_last_messages_for_the_demo_outbox():
    console_outbox_clear()
    result = ConsoleSmsProvider().send(to_e164="+33612345678", body="Démo", sender="RELAIS")

    [shown] = console_outbox()
    assert shown["id"] == result.message_id and result.message_id.startswith("console-")
    assert shown["to"] == "+33612345678" and shown["text"] == "Démo"


def test_settings_choose_the_provider(settings, fake_sms):
    settings.SMS_PROVIDER = "console"
    assert isinstance(sms_provider(), ConsoleSmsProvider)
    settings.SMS_PROVIDER, settings.SMS_HTTP_URL, settings.SMS_HTTP_TOKEN = "http", fake_sms.url, "t"
    provider = sms_provider()
    assert isinstance(provider, HttpSmsProvider) and provider.url == fake_sms.url


@pytest.mark.parametrize(
    ("text", "encoding", "segments"),
    [
        ("", "GSM-7", 0),
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),  # 153 per part once split
        ("€" * 80, "GSM-7", 1),  # the euro sign takes two septets
        ("é" * 160, "GSM-7", 1),  # é is in the GSM alphabet
        ("ê" * 70, "UCS-2", 1),  # ê is not: the whole SMS switches to UCS-2
        ("ê" * 71, "UCS-2", 2),
    ],
)
def test_it_counts_parts_as_the_networks_do(text, encoding, segments):
    count = sms_segments(text)
    assert (count.encoding, count.segments) == (encoding, segments)
