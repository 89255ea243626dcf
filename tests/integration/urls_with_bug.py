from django.http import HttpRequest, HttpResponse
from django.urls import path


def boom(request: HttpRequest) -> HttpResponse:
    raise ZeroDivisionError("internal detail that must not leak")


urlpatterns = [path("boom/", boom)]
handler500 = "monolith.api.errors.handler500"
