"""Operations page and Prometheus metrics: only for operators or a metrics token."""

from __future__ import annotations

from django.urls import reverse


def test_metrics_need_the_token_or_the_permission(client, db, settings, agent, admin_staff):
    settings.METRICS_TOKEN = "metrics-secret"
    assert client.get(reverse("metrics")).status_code == 403
    assert client.get(reverse("metrics"), HTTP_AUTHORIZATION="Bearer wrong").status_code == 403

    response = client.get(reverse("metrics"), HTTP_AUTHORIZATION="Bearer metrics-secret")
    assert response.status_code == 200
    assert b"django_http_requests_total_by_method_total" in response.content

    client.force_login(agent)
    forbidden = client.get(reverse("metrics"))
    assert forbidden.status_code == 403 and b"django_http" not in forbidden.content
    client.force_login(admin_staff)
    assert client.get(reverse("metrics")).status_code == 200


def test_an_empty_metrics_token_never_matches(client, db, settings):
    settings.METRICS_TOKEN = ""
    assert client.get(reverse("metrics"), HTTP_AUTHORIZATION="Bearer ").status_code == 403


def test_the_operations_page_lists_queues_and_scheduled_jobs(client, admin_staff):
    client.force_login(admin_staff)
    response = client.get(reverse("operations"))
    assert response.status_code == 200
    assert set(response.context["queues"]) == {"default", "segments", "sends", "analytics", "webhooks", "imports"}
    assert "Clear expired sessions" in [job.name for job in response.context["jobs"]]


def test_celery_routes_each_queue_to_itself_only():
    from crm.celery import app

    for queue in app.conf.task_queues:
        assert queue.exchange.name == queue.name and queue.routing_key == queue.name
