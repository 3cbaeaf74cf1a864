from django.urls import path

from fangkong.core import views

app_name = "core"

urlpatterns = [
    path("console/", views.home, name="home"),
    path("login/", views.login_view, name="login"),
    path("login/code/", views.login_otp_view, name="login_otp"),
    path("logout/", views.logout_view, name="logout"),
    path("account/two-factor/", views.two_factor, name="two_factor"),
    path("account/tokens/", views.api_tokens, name="api_tokens"),
    path("account/tokens/<int:token_id>/revoke/", views.api_token_revoke, name="api_token_revoke"),
    path("people/", views.people, name="people"),
    path("people/<int:person_id>/", views.person_detail, name="person"),
    path("people/<int:person_id>/unmask/", views.person_unmask, name="person_unmask"),
    path("jurisdictions/", views.jurisdictions, name="jurisdictions"),
    path(
        "jurisdictions/<int:jurisdiction_id>/",
        views.jurisdiction_detail,
        name="jurisdiction",
    ),
    path("audit/", views.audit, name="audit"),
    path("audit/export.csv", views.audit_export, name="audit_export"),
    path("map/base.json", views.base_map, name="base_map"),
    path("pick/areas/", views.tree_pick, name="tree_pick"),
]
