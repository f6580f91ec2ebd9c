"""Every page carries a Content-Security-Policy that runs only our own scripts (and nonce'd inline
ones), loads images only from Relais and data: URLs, and may not be framed; templates hold no
inline event handler or script the policy would block."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from channels.services.email_in import email_inbound_record
from tests.channels import email_support
from tests.channels.email_support import build_message

pytestmark = pytest.mark.django_db
media = email_support.media


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split("; ")}


@pytest.mark.parametrize(
    "url",
    ["/accounts/login/", "/api/docs/", "/api/docs/?script=", "/admin/login/", "/portal/", "/no-such-page/",
     "/api/v1/me/"],
)  # fmt: skip
def test_every_kind_of_page_sends_the_policy(client, url):
    policy = _policy(client.get(url))

    assert policy["script-src"][0] == "'self'" and policy["script-src"][1].startswith("'nonce-")
    assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]


def test_staff_pages_send_it_and_their_inline_scripts_carry_this_responses_nonce(client, agent):
    client.force_login(agent)

    for name in ("home", "channels:chat_queue", "channels:web_demo"):
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        nonce = _policy(response)["script-src"][1][len("'nonce-") : -1]
        html = response.content.decode()
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert " src=" in tag or f'nonce="{nonce}"' in tag, (name, tag)


def test_the_nonce_changes_on_every_response(client):
    first = _policy(client.get("/accounts/login/"))["script-src"][1]
    second = _policy(client.get("/accounts/login/"))["script-src"][1]
    assert first != second


def test_https_images_are_allowed_only_on_the_page_where_an_agent_shows_one_messages_images(client, agent, media):
    result = email_inbound_record(raw=build_message(html='<p>Photo</p><img src="https://cdn.example/a.png">'))
    url = reverse("channels:email_thread", kwargs={"pk": result.conversation.pk})
    client.force_login(agent)

    blocked = client.get(url)
    shown = client.get(f"{url}?images={result.interaction.pk}")

    assert _policy(blocked)["img-src"] == ["'self'", "data:"]
    assert ' src="https://cdn.example/a.png"' not in blocked.content.decode()
    assert _policy(shown)["img-src"] == ["'self'", "data:", "https:"]
    assert ' src="https://cdn.example/a.png"' in shown.content.decode()


TEMPLATE_DIRS = [Path(settings.BASE_DIR) / "templates", *Path(settings.BASE_DIR).glob("*/templates")]
HANDLER = re.compile(r"<[^>]*\s(on[a-z]+|hx-on[:\w-]*)\s*=", re.IGNORECASE)
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\b(src|nonce)=)[^>]*>", re.IGNORECASE)


def test_no_template_has_an_inline_handler_or_a_script_without_src_or_nonce():
    found = []
    for folder in TEMPLATE_DIRS:
        for path in folder.rglob("*.html"):
            text = path.read_text()
            found += [f"{path}: {m.group(0)[:80]}" for m in HANDLER.finditer(text)]
            found += [f"{path}: {m.group(0)[:80]}" for m in INLINE_SCRIPT.finditer(text)]
    assert found == []
