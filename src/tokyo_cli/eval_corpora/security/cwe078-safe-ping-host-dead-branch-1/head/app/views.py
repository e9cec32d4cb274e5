"""HTTP handlers."""

import subprocess

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods


LEGACY_MODE = False


@require_http_methods(["GET", "POST"])
def ping_host_dead_branch(request):
    """Ping host dead branch."""
    host = request.COOKIES.get("host", "")
    if LEGACY_MODE:
        proc = subprocess.run(f"ping -c 1 {host}", shell=True, capture_output=True, text=True)
        return JsonResponse({"output": proc.stdout})
    return JsonResponse({"disabled": True})
