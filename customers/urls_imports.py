"""Routes: imports (see customers/urls.py)."""

from django.urls import path

from customers.views import imports

urlpatterns: list = [
    path("", imports.import_list, name="import_list"),
    path("<int:job_pk>/mapping/", imports.import_mapping, name="import_mapping"),
    path("<int:job_pk>/", imports.import_job, name="import_job"),
    path("<int:job_pk>/progress/", imports.import_job_hx, name="import_job_hx"),
    path("<int:job_pk>/requeue/", imports.import_job_requeue, name="import_job_requeue"),
    path("<int:job_pk>/report.csv", imports.import_report, name="import_report"),
]
