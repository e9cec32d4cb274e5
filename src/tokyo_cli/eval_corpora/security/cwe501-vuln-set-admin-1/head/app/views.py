"""HTTP handlers."""

import json

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods


@require_http_methods(["GET", "POST"])
def set_admin(request):
    """Set admin."""
    admin = json.loads(request.body or b"{}").get("admin", "")
    request.session["is_admin"] = admin == "true"
    return JsonResponse({"ok": True})
