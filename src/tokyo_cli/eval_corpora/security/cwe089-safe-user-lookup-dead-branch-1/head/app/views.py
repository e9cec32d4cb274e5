"""HTTP handlers."""

import os

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods

from app.services import find_users


LEGACY_MODE = False


@require_http_methods(["GET", "POST"])
def user_lookup_dead_branch(request):
    """User lookup dead branch."""
    name = request.COOKIES.get("name", "")
    if LEGACY_MODE:
        rows = find_users(name)
        return JsonResponse({"users": rows})
    return JsonResponse({"disabled": True})
