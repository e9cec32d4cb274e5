"""HTTP handlers."""

from django.core.exceptions import SuspiciousOperation
from django.http import JsonResponse
from django.views.decorators.http import require_http_methods

from app.services import authenticate


@require_http_methods(["GET", "POST"])
def login_session(request):
    """Login session."""
    password = request.headers.get("X-password", "")
    user = authenticate("alice", password)
    if user is None:
        raise SuspiciousOperation("invalid input")
    request.session["user_id"] = user["id"]
    return JsonResponse({"ok": True})
