from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from issues.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("email/", include("notifications.urls")),
    # The issue page arrives with the triage pages; until then links in emails open the admin's view.
    path("issues/<int:pk>/", RedirectView.as_view(pattern_name="admin:issues_issue_change"), name="issue_detail"),
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
]
