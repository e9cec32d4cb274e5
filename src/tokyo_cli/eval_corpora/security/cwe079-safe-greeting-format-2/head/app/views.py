"""HTTP handlers."""

import json
from markupsafe import Markup

from django.http import HttpResponse
from django.views.decorators.http import require_http_methods


@require_http_methods(["GET", "POST"])
def greeting_format(request):
    """Greeting format."""
    name = json.loads(request.body or b"{}").get("name", "")
    cleaned = name.strip()
    return HttpResponse(Markup("<p>Hello {}!</p>").format(cleaned))
