"""HTTP handlers."""

import json
import urllib.request

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods


@require_http_methods(["GET", "POST"])
def webhook_test(request):
    """Webhook test."""
    callback = json.loads(request.body or b"{}").get("callback", "")
    with urllib.request.urlopen(callback, timeout=5) as resp:
        code = resp.status
    return JsonResponse({"status": code})
