"""HTTP handlers."""

import requests

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods


LEGACY_MODE = False


@require_http_methods(["GET", "POST"])
def preview_dead_branch(request):
    """Preview dead branch."""
    url = request.COOKIES.get("url", "")
    if LEGACY_MODE:
        resp = requests.get(url, timeout=5)
        return JsonResponse({"status": resp.status_code, "length": len(resp.content)})
    return JsonResponse({"disabled": True})
