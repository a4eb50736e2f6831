from django.urls import path

from . import accountability_views, attachments, audit_views, feeds, open_results, opendata, views

app_name = "participation"

urlpatterns = [
    path("participate/", views.participate, name="list"),
    path("polls/<slug:slug>/", views.poll_detail, name="poll_detail"),
    path("polls/<slug:slug>/thanks/", views.poll_thanks, name="poll_thanks"),
    path("polls/<slug:slug>/results/", views.poll_results, name="poll_results"),
    path("referendums/<slug:slug>/results/", views.referendum_results, name="referendum_results"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("audit/", audit_views.audit_index, name="audit_index"),
    path("audit/checkpoint/", audit_views.audit_checkpoint, name="audit_checkpoint"),
    path("audit/checkpoint.json", audit_views.audit_checkpoint_json, name="audit_checkpoint_json"),
    path("audit/trail.csv", audit_views.audit_trail_csv, name="audit_trail_csv"),
    path("audit/<str:kind>/<slug:slug>/<str:name>.csv", audit_views.export_csv, name="export_csv"),
    path("audit/<str:kind>/<slug:slug>/<str:name>.csv.sha256", audit_views.export_sha256, name="export_sha256"),
    path("referendums/<slug:slug>/", views.referendum_detail, name="referendum_detail"),
    path("referendums/<slug:slug>/receipts/", views.referendum_receipts, name="referendum_receipts"),
    path("referendums/<slug:slug>/ballots.csv", open_results.ballots_csv, name="referendum_ballots_csv"),
    path("referendums/<slug:slug>/result.json", open_results.result_json, name="referendum_result_json"),
    path("consultations/<slug:slug>/", views.consultation_detail, name="consultation_detail"),
    path("consultations/<slug:slug>/comment/", views.consultation_comment, name="consultation_comment"),
    path("consultations/<slug:slug>/sections/<int:number>/react/", views.consultation_react, name="consultation_react"),
    path("documents/<slug:slug>.pdf", attachments.attachment, name="attachment"),
    path("consultations/<slug:slug>/outcome/", views.consultation_outcome, name="consultation_outcome"),
    path("you-said-we-did/", accountability_views.government, name="accountability"),
    path("you-said-we-did/<slug:slug>/", accountability_views.entity_record, name="accountability_entity"),
    path("data/", opendata.datasets, name="datasets"),
    path("data/accountability-<str:table>.<str:fmt>", opendata.accountability_download, name="accountability_download"),
    path("data/results/<str:kind>/<slug:slug>.<str:fmt>", opendata.result_download, name="result_download"),
    path("feeds/opened.atom", feeds.opened_feed, name="feed_opened"),
    path("feeds/results.atom", feeds.results_feed, name="feed_results"),
    path("feeds/outcomes.atom", feeds.outcomes_feed, name="feed_outcomes"),
    path("feeds/calendar.ics", feeds.calendar, name="feed_calendar"),
]
