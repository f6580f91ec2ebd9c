"""HTML routes of campaigns, templates and tracking (included by campaigns/urls.py)."""

from django.urls import path

from campaigns.views import campaigns, templates, tracking

urlpatterns = [
    path("t/o/<str:token>.gif", tracking.track_open, name="track_open"),
    path("t/c/<str:token>/", tracking.track_click, name="track_click"),
    path("t/u/<str:token>/", tracking.unsubscribe, name="unsubscribe"),
    path("", campaigns.campaign_list_view, name="campaign_list"),
    path("new/", campaigns.campaign_create_view, name="campaign_create"),
    path("<int:pk>/", campaigns.campaign_detail_view, name="campaign_detail"),
    path("<int:pk>/edit/", campaigns.campaign_edit_view, name="campaign_edit"),
    path("<int:pk>/progress/", campaigns.campaign_progress_hx, name="campaign_progress_hx"),
    path("<int:pk>/launch/", campaigns.campaign_launch_view, name="campaign_launch"),
    path("<int:pk>/pause/", campaigns.campaign_pause_view, name="campaign_pause"),
    path("<int:pk>/resume/", campaigns.campaign_resume_view, name="campaign_resume"),
    path("<int:pk>/cancel/", campaigns.campaign_cancel_view, name="campaign_cancel"),
    path("templates/", templates.template_list_view, name="template_list"),
    path("templates/new/", templates.template_create_view, name="template_create"),
    path("templates/preview/", templates.template_preview_hx, name="template_preview_hx"),
    path("templates/<int:pk>/", templates.template_edit_view, name="template_edit"),
    path("templates/<int:pk>/test/", templates.template_test_send_view, name="template_test_send"),
]
