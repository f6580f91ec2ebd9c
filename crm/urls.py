"""The URL map. Every view declares who may use it (crm.access); the access-map test checks that."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog, set_language

from crm.access import public_view
from crm.auth import StaffAdminAuthenticationForm, StaffAuthenticationForm
from crm.views import account, health, home, operations, team, tokens

admin.site.site_header = "Relais"
admin.site.site_title = "Relais"
admin.site.login_form = StaffAdminAuthenticationForm

auth_urls = [
    path(
        "login/",
        public_view(
            auth_views.LoginView.as_view(redirect_authenticated_user=True, authentication_form=StaffAuthenticationForm)
        ),
        name="login",
    ),
    path("logout/", public_view(auth_views.LogoutView.as_view()), name="logout"),
    path(
        "password/change/",
        account.password_change,
        name="password_change",
    ),
    path("password/change/done/", account.password_change_done, name="password_change_done"),
    path(
        "password/reset/",
        public_view(auth_views.PasswordResetView.as_view()),
        name="password_reset",
    ),
    path(
        "password/reset/sent/",
        public_view(auth_views.PasswordResetDoneView.as_view()),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        public_view(auth_views.PasswordResetConfirmView.as_view()),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/complete/",
        public_view(auth_views.PasswordResetCompleteView.as_view()),
        name="password_reset_complete",
    ),
]

urlpatterns = [
    path("", home.home, name="home"),
    path("account/", account.account, name="account"),
    path("account/tokens/", tokens.api_tokens, name="api_tokens"),
    path("account/tokens/<int:pk>/revoke/", tokens.api_token_revoke, name="api_token_revoke"),
    path("team/", team.team, name="team"),
    path("operations/", operations.operations, name="operations"),
    path("health/", health.health, name="health"),
    path("metrics", operations.metrics, name="metrics"),
    path("i18n/setlang/", public_view(set_language), name="set_language"),
    path("i18n/catalog.js", public_view(JavaScriptCatalog.as_view()), name="javascript_catalog"),
    path("accounts/", include(auth_urls)),
    path("api/", include("crm.api.urls")),
    path("customers/", include("customers.urls")),
    path("channels/", include("channels.urls")),
    path("campaigns/", include("campaigns.urls")),
    path("portal/", include("selfcare.urls")),
    path("analytics/", include("analytics.urls")),
    path("admin/", admin.site.urls),
]

handler403 = "crm.views.errors.permission_denied"
handler404 = "crm.views.errors.page_not_found"
handler500 = "crm.views.errors.server_error"
