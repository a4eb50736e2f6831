from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from accounts import views as accounts_views
from api import urls as api_urls
from participation import sitemaps
from participation import views as participation_views

from . import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("sitemap.xml", sitemaps.sitemap, name="sitemap"),
    path("robots.txt", sitemaps.robots_txt, name="robots_txt"),
    path("", include(api_urls)),
]

urlpatterns += i18n_patterns(
    path("", participation_views.home, name="home"),
    path("audience/", participation_views.choose_audience, name="choose_audience"),
    path("about/", participation_views.about, name="about"),
    path("policy/", participation_views.policy, name="policy"),
    path("feedback/", participation_views.feedback_answer, name="feedback_answer"),
    path("feedback/reason/", participation_views.feedback_reason, name="feedback_reason"),
    path("", include("participation.urls")),
    # Before allauth's own: the same URL, with a clear page when the identity provider is down.
    path("accounts/oidc/<str:provider_id>/login/", accounts_views.national_identity_login),
    path("accounts/oidc/<str:provider_id>/login/callback/", accounts_views.national_identity_callback),
    path("accounts/", include("allauth.urls")),
    path("profile/", include("accounts.urls")),
    path("", include((api_urls.docs_patterns, "api_docs"))),
    prefix_default_language=True,
)

handler400 = "hukoomi_portal.views.bad_request"
handler403 = "hukoomi_portal.views.permission_denied"
handler404 = "hukoomi_portal.views.page_not_found"
handler500 = "hukoomi_portal.views.server_error"
