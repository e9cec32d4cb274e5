"""HTTP handlers."""

import json
from urllib.parse import urlparse

import requests

from django.core.exceptions import SuspiciousOperation
from django.http import JsonResponse
from django.views.decorators.http import require_http_methods


ALLOWED_HOSTS = {"images.example.com", "cdn.example.com"}


@require_http_methods(["GET", "POST"])
def preview_allowlist(request):
    """Preview allowlist."""
    url = json.loads(request.body or b"{}").get("url", "")
    cleaned = url.strip()
    if urlparse(cleaned).hostname not in ALLOWED_HOSTS:
        raise SuspiciousOperation("invalid input")
    resp = requests.get(cleaned, timeout=5, allow_redirects=False)
    return JsonResponse({"status": resp.status_code, "length": len(resp.content)})
