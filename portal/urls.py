"""The customer's own pages, under /c/: each address holds the link's token (``portal.access``)."""

from django.urls import path

from portal import feedback, views

app_name = "portal"

urlpatterns = [
    path("new-link/", views.fresh_link, name="fresh_link"),
    path("<str:token>/", views.issue_page, name="issue"),
    path("<str:token>/issues/", views.company_issues, name="issues"),
    path("<str:token>/answer/", views.answer, name="answer"),
    path("<str:token>/deadline/", views.deadline, name="deadline"),
    path("<str:token>/solved/", feedback.solved, name="solved"),
    path("<str:token>/not-solved/", feedback.not_solved, name="not_solved"),
    path("<str:token>/rate/", feedback.rate, name="rate"),
]
