from django.urls import path

from portal import views as portal_views

from . import views

app_name = "transparency"

urlpatterns = [
    path("transparency/", views.page, name="page"),
    path("transparency/data/transparency-data.zip", views.archive, name="archive"),
    path("transparency/data/<str:name>", views.download, name="download"),
    path("organisation/impact/", views.impact, name="impact"),
    # The organisation admin's choice to be named on the public page (a portal view).
    path(
        "organisation/<slug:slug>/listing/",
        portal_views.organisation_listing,
        name="organisation-listing",
    ),
]
