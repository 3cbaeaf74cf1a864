from django.urls import path

from fangkong.status import check, views

app_name = "status"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("check", check.check_view, name="check"),
    path("people/<int:person_id>/", views.person_panel, name="person"),
    path("approvals/", views.approvals, name="approvals"),
    path("approvals/<int:request_id>/decide/", views.approval_decide, name="approval_decide"),
    path("appeals/", views.appeals, name="appeals"),
    path("appeals/<int:appeal_id>/decide/", views.appeal_decide, name="appeal_decide"),
    path("report/", views.report, name="report"),
    # Public (residents)
    path("me/login/", views.resident_login, name="resident_login"),
    path("me/logout/", views.resident_signout, name="resident_logout"),
    path("me/", views.me, name="me"),
    path("me/appeal/", views.appeal_new, name="appeal"),
]
