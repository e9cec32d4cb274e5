"""HTTP handlers."""

import html

from django.http import HttpResponse
from django.views.decorators.http import require_http_methods


@require_http_methods(["GET", "POST"])
def search_page_escaped(request):
    """Search page escaped."""
    q = request.headers.get("X-q", "")
    page = "<h1>Results for " + html.escape(q) + "</h1>"
    return HttpResponse(page)
