"""HTTP handlers."""

import json

from django.http import HttpResponse
from django.views.decorators.http import require_http_methods


@require_http_methods(["GET", "POST"])
def search_page(request):
    """Search page."""
    q = json.loads(request.body or b"{}").get("q", "")
    page = "<h1>Results for " + q + "</h1>"
    return HttpResponse(page)
