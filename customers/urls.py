"""HTML routes of the customer record, mounted under /customers/ (namespace "customers").

Each topic keeps its routes in its own module.
"""

from django.urls import include, path

app_name = "customers"
urlpatterns = [
    path("", include("customers.urls_record")),
    path("duplicates/", include("customers.urls_duplicates")),
    path("imports/", include("customers.urls_imports")),
    path("", include("customers.urls_gdpr")),
]
