"""The import screens and the management command."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from customers.models import Customer, ImportJob, ImportMapping

pytestmark = pytest.mark.django_db
CSV = "Nom;Prénom;E-mail\nDurand;Hélène;h@example.fr\nMartin;Paul;=1+1\n".encode()


def test_a_supervisor_uploads_previews_and_imports(client, supervisor, django_capture_on_commit_callbacks):
    client.force_login(supervisor)
    response = client.post(
        reverse("customers:import_list"),
        {"kind": "customers", "source": "shop", "file": SimpleUploadedFile("c.csv", CSV)},
    )
    job = ImportJob.objects.get()
    assert response.url == reverse("customers:import_mapping", args=[job.pk])
    page = client.get(response.url).content.decode()
    assert 'value="family_name" selected' in page and 'value="email" selected' in page
    columns = {"col-0": "family_name", "col-1": "given_name", "col-2": "email"}
    preview = client.post(response.url, {**columns, "action": "preview"}).content.decode()
    assert "h@example.fr" in preview and "=1+1" in preview and Customer.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("customers:import_mapping", args=[job.pk]), {**columns, "action": "import"})
    assert response.url == reverse("customers:import_job", args=[job.pk])
    page = client.get(response.url).content.decode()
    assert "2 created, 0 updated, 0 unchanged" in page and "1 rows with warnings, 0 rows rejected." in page
    assert "=1+1" in page
    assert ImportMapping.objects.get(source="shop").columns["Nom"] == "family_name"
    report = client.get(reverse("customers:import_report", args=[job.pk])).content.decode("utf-8-sig")
    assert "3,E-mail,'=1+1," in report
    assert b"of 3 rows" not in client.get(reverse("customers:import_job_hx", args=[job.pk])).content


def test_the_mapping_page_names_missing_required_columns(client, supervisor):
    client.force_login(supervisor)
    client.post(
        reverse("customers:import_list"),
        {"kind": "customers", "source": "shop", "file": SimpleUploadedFile("c.csv", CSV)},
    )
    job = ImportJob.objects.get()
    response = client.post(reverse("customers:import_mapping", args=[job.pk]), {"col-2": "email", "action": "import"})
    assert (
        response.status_code == 400
        and "Required columns are missing: Family name or Company" in response.content.decode()
    )
    job.refresh_from_db()
    assert job.status == "uploaded" and Customer.objects.count() == 0


def test_agents_and_marketers_cannot_import(client, agent, marketer):
    for outsider in (agent, marketer):
        client.force_login(outsider)
        response = client.post(
            reverse("customers:import_list"),
            {"kind": "customers", "source": "x", "file": SimpleUploadedFile("c.csv", CSV)},
        )
        assert response.status_code == 403
    assert ImportJob.objects.count() == 0


def test_the_list_page_runs_a_fixed_number_of_queries(client, supervisor, django_assert_max_num_queries):
    for n in range(5):
        ImportJob.objects.create(kind="customers", source="s", original_name=f"f{n}.csv", created_by=supervisor)
    client.force_login(supervisor)
    with django_assert_max_num_queries(8):
        assert client.get(reverse("customers:import_list")).status_code == 200


def test_the_command_imports_and_dry_runs(tmp_path, capsys):
    path = tmp_path / "clients.csv"
    path.write_bytes(CSV)
    call_command("import_customers", str(path), "--kind", "customers", "--source", "erp", "--dry-run")
    assert "2 created" in capsys.readouterr().out and Customer.objects.count() == 0
    call_command("import_customers", str(path), "--source", "erp", "--mapping", "Nom=family_name,E-mail=email")
    assert set(Customer.objects.values_list("family_name", flat=True)) == {"Durand", "Martin"}
    with pytest.raises(CommandError, match="Required columns are missing"):
        call_command("import_customers", str(path), "--source", "erp2", "--mapping", "E-mail=email")


def test_the_import_screen_is_in_the_navigation_and_linked_from_the_list_for_those_who_may_import(
    client, supervisor, agent
):
    client.force_login(supervisor)
    page = client.get(reverse("customers:list")).content.decode()
    assert page.count(reverse("customers:import_list")) >= 2  # sidebar entry and the list's button
    client.force_login(agent)
    assert reverse("customers:import_list") not in client.get(reverse("customers:list")).content.decode()
