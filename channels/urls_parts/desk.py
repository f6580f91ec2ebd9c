"""HTML routes: the service desk (cases, queues, supervisor, my work) and the public survey page."""

from django.urls import path

from channels.views import desk, surveys

urlpatterns = [
    path("desk/cases/", desk.case_list, name="case_list"),
    path("desk/cases/new/", desk.case_new, name="case_new"),
    path("desk/customers/<int:pk>/cases/new/", desk.case_create, name="case_create"),
    path("desk/cases/<int:pk>/", desk.case_detail, name="case_detail"),
    path("desk/cases/<int:pk>/status/", desk.case_status, name="case_status"),
    path("desk/cases/<int:pk>/assign/", desk.case_assign, name="case_assign"),
    path("desk/cases/<int:pk>/classify/", desk.case_classify, name="case_classify"),
    path("desk/cases/<int:pk>/note/", desk.case_note, name="case_note"),
    path("desk/queues/", desk.queue_list, name="queues"),
    path("desk/queues/<int:pk>/", desk.queue_detail, name="queue_detail"),
    path("desk/queues/<int:pk>/take-next/", desk.queue_take_next, name="queue_take_next"),
    path("desk/availability/", desk.availability_set, name="availability"),
    path("desk/supervisor/", desk.supervisor, name="supervisor"),
    path("desk/staff-picker/", desk.staff_picker_hx, name="staff_picker_hx"),
    path("my-work/", desk.my_work_view, name="my_work"),
    path("desk/follow-ups/<int:pk>/done/", desk.follow_up_done, name="follow_up_done"),
    path("survey/<str:token>/", surveys.survey_answer_view, name="survey_answer"),
]
