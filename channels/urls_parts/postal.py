"""HTML routes: postal (letters, batches, returned mail)."""

from django.urls import path

from channels.views import postal

urlpatterns: list = [
    path("customers/<int:pk>/letter/", postal.letter_compose, name="letter_compose"),
    path("letters/<int:pk>/", postal.letter_detail, name="letter_detail"),
    path("letters/<int:pk>/pdf/", postal.letter_pdf_download, name="letter_pdf"),
    path("letters/<int:pk>/returned/", postal.letter_returned, name="letter_returned"),
    path("letters/batches/", postal.batch_list, name="letter_batches"),
    path("letters/batches/new/", postal.batch_create, name="letter_batch_create"),
    path("letters/batches/<int:pk>/", postal.batch_detail, name="letter_batch_detail"),
    path("letters/batches/<int:pk>/progress/", postal.batch_progress_hx, name="letter_batch_progress_hx"),
    path("letters/batches/<int:pk>/pdf/", postal.batch_pdf, name="letter_batch_pdf"),
    path("letters/batches/<int:pk>/csv/", postal.batch_csv, name="letter_batch_csv"),
]
