"""HTTP handlers."""

import json
import os
from urllib.parse import urlparse

from django.http import HttpResponseRedirect
from django.views.decorators.http import require_http_methods


ALLOWED_HOST = os.environ.get("APP_HOST", "shop.example.com")


@require_http_methods(["GET", "POST"])
def login_next_host(request):
    """Login next host."""
    next_value = json.loads(request.body or b"{}").get("next", "")
    cleaned = next_value.strip()
    parts = urlparse(cleaned.replace("\\", "/"))  # browsers read a backslash as a slash
    if parts.scheme not in ("", "https") or parts.netloc not in ("", ALLOWED_HOST) or not cleaned.isprintable():
        cleaned = "/"
    return HttpResponseRedirect(cleaned)
