from django.urls import path

from inbound import views
from issues import ids  # noqa: F401  registers <id:...>

urlpatterns = [
    path("inbound/", views.unmatched, name="inbound_unmatched"),
    path("inbound/<id:pk>/attach/", views.attach, name="inbound_attach"),
    path("inbound/<id:pk>/open/", views.open_issue, name="inbound_open"),
    path("inbound/<id:pk>/discard/", views.discard, name="inbound_discard"),
    path("inbound/<id:pk>/original/", views.original, name="inbound_original"),
    path("inbound/attachments/<id:pk>/", views.attachment, name="inbound_attachment"),
    path("dev/mailbox/", views.dev_mailbox, name="dev_mailbox"),
    path("dev/mailbox/new/", views.dev_new, name="dev_new"),
    path("dev/mailbox/<id:pk>/answer/", views.dev_answer, name="dev_answer"),
]
