from django.urls import path

from fangkong.investigation import views

app_name = "investigation"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("cases/", views.case_list, name="cases"),
    path("cases/line-list/", views.case_line_list, name="case_line_list"),
    path("contacts/line-list/", views.contact_line_list, name="contact_line_list"),
    path("cases/new/", views.case_new, name="case_new"),
    path("cases/<int:case_id>/", views.case_detail, name="case"),
    path("cases/<int:case_id>/classify/", views.case_classify, name="case_classify"),
    path("cases/<int:case_id>/investigation/", views.case_investigation, name="case_investigation"),
    path("cases/<int:case_id>/outcome/", views.case_outcome, name="case_outcome"),
    path("cases/<int:case_id>/release/", views.case_release, name="case_release"),
    path("cases/<int:case_id>/stops/", views.stop_add, name="stop_add"),
    path("cases/<int:case_id>/match/", views.case_match, name="case_match"),
    path("cases/<int:case_id>/contacts/", views.contact_add, name="contact_add"),
    path("cases/<int:case_id>/chain/", views.case_chain, name="case_chain"),
    path("matches/<int:match_id>/confirm/", views.match_confirm, name="match_confirm"),
    path("matches/<int:match_id>/dismiss/", views.match_dismiss, name="match_dismiss"),
    path("clusters/", views.cluster_list, name="clusters"),
    path("clusters/<int:cluster_id>/", views.cluster_detail, name="cluster"),
    path("breaches/", views.breach_list, name="breaches"),
    path("breaches/<int:inquiry_id>/", views.breach_detail, name="breach"),
    path("breaches/<int:inquiry_id>/take/", views.breach_take, name="breach_take"),
    path("breaches/<int:inquiry_id>/close/", views.breach_close, name="breach_close"),
    path("timeline/", views.timeline, name="timeline"),
    path("followups/", views.followups, name="followups"),
    path("followups/<int:followup_id>/", views.followup_record, name="followup_record"),
    path("rules/", views.rules, name="rules"),
    path("rules/<slug:code>/", views.rules_add, name="rules_add"),
    path("pick/people/", views.person_picker, name="person_picker"),
    path("pick/venues/", views.venue_picker, name="venue_picker"),
]
