"""HTTP handlers."""

import requests

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods


@require_http_methods(["GET", "POST"])
def preview(request):
    """Preview."""
    url = request.POST.get("url", "")
    cleaned = url.strip()
    resp = requests.get(cleaned, timeout=5)
    return JsonResponse({"status": resp.status_code, "length": len(resp.content)})
