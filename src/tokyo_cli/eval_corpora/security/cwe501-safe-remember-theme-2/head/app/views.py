"""HTTP handlers."""

import json

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods


THEMES = ("light", "dark", "contrast")


@require_http_methods(["GET", "POST"])
def remember_theme(request):
    """Remember theme."""
    theme = json.loads(request.body or b"{}").get("theme", "")
    cleaned = theme.strip()
    request.session["theme"] = cleaned if cleaned in THEMES else "light"
    return JsonResponse({"ok": True})
