"""HTML routes: timeline (the 360 timeline's pages, logging a call, a visit or a note by hand)."""

from django.urls import path

from channels.views import timeline

urlpatterns = [
    path("customers/<int:pk>/timeline/", timeline.timeline, name="timeline"),
    path("customers/<int:pk>/calls/log/", timeline.call_log, name="call_log"),
    path("customers/<int:pk>/visits/new/", timeline.visit_log, name="visit_log"),
    path("customers/<int:pk>/notes/new/", timeline.note_add, name="note_add"),
    path("products/picker/", timeline.product_picker_hx, name="product_picker_hx"),
]
