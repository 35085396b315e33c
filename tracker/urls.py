from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from issues.health import healthz
from issues.views import account

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("accounts/login/", account.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/setlang/", account.set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("email/", include("notifications.urls")),
    path("c/", include("portal.urls")),
    path("api/", include("api.urls")),
    path("", include("inbound.urls")),
    path("", include("issues.urls")),
]
