from django.urls import path

from issues import ids  # noqa: F401  registers <id:...>: only an id a row can have matches
from issues.views import (
    customers,
    dashboard,
    inbox,
    issue,
    new,
    preferences,
    saved,
    undo,
)

urlpatterns = [
    path("", inbox.inbox, name="inbox"),
    path("issues/new/", new.issue_new, name="issue_new"),
    path("issues/bulk/", inbox.bulk, name="issue_bulk"),
    path("views/", saved.save_view, name="saved_view_save"),
    path("views/<id:pk>/delete/", saved.delete_view, name="saved_view_delete"),
    path("issues/<id:pk>/", issue.issue_detail, name="issue_detail"),
    path("issues/<id:pk>/compose/", issue.compose, name="issue_compose"),
    path("issues/<id:pk>/update/", issue.post_update, name="issue_update"),
    path("issues/<id:pk>/note/", issue.add_note, name="issue_note"),
    path("issues/<id:pk>/acknowledge/", issue.acknowledge, name="issue_acknowledge"),
    path("issues/<id:pk>/assign/", issue.assign, name="issue_assign"),
    path("issues/<id:pk>/severity/", issue.change_severity, name="issue_severity"),
    path("issues/<id:pk>/status/", issue.change_status, name="issue_status"),
    path("issues/<id:pk>/resolve/", issue.resolve, name="issue_resolve"),
    path("issues/<id:pk>/reopen/", issue.reopen, name="issue_reopen"),
    path("issues/<id:pk>/recipients/", issue.change_recipients, name="issue_recipients"),
    path("issues/<id:pk>/deadline/", issue.set_deadline, name="issue_deadline"),
    path("undo/<id:pk>/", undo.take_back, name="undo"),
    path("customers/", customers.customer_list, name="customer_list"),
    path("customers/<slug:slug>/", customers.customer_detail, name="customer_detail"),
    path("dashboard/", dashboard.dashboard_page, name="dashboard"),
    path("dashboard/breaches.csv", dashboard.breaches_csv, name="dashboard_breaches_csv"),
    path("dashboard/owners.csv", dashboard.owners_csv, name="dashboard_owners_csv"),
    path("dashboard/ratings.csv", dashboard.ratings_csv, name="dashboard_ratings_csv"),
    path("preferences/", preferences.preferences, name="preferences"),
]
