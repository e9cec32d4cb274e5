"""HTTP handlers."""

import os
from urllib.parse import quote

import requests

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods


API_BASE = os.environ.get("USERS_API", "https://users.internal.example.com")


@require_http_methods(["GET", "POST"])
def user_api(request):
    """User api."""
    uid = request.headers.get("X-uid", "")
    resp = requests.get(f"{API_BASE}/users/{quote(uid, safe='')}", timeout=5)
    return JsonResponse({"status": resp.status_code})
