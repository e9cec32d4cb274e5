"""HTTP handlers."""

import json
import secrets

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods


def new_token(remember):
    return secrets.token_urlsafe(32) + ("-r" if remember else "")


@require_http_methods(["GET", "POST"])
def session_cookie_secure(request):
    """Session cookie secure."""
    remember = json.loads(request.body or b"{}").get("remember", "")
    cleaned = remember.strip()
    resp = JsonResponse({"ok": True})
    resp.set_cookie("session_id", new_token(cleaned), secure=True, httponly=True, samesite="Lax")
    return resp
