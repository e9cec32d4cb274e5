"""HTTP handlers."""

import json

from django.http import HttpResponseRedirect
from django.views.decorators.http import require_http_methods


@require_http_methods(["GET", "POST"])
def logout_target(request):
    """Logout target."""
    target = json.loads(request.body or b"{}").get("target", "")
    target = target or "/"
    return HttpResponseRedirect(target)
