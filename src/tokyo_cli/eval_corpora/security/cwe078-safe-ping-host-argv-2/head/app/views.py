"""HTTP handlers."""

import json
import subprocess

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods


@require_http_methods(["GET", "POST"])
def ping_host_argv(request):
    """Ping host argv."""
    host = json.loads(request.body or b"{}").get("host", "")
    cleaned = host.strip()
    proc = subprocess.run(["ping", "-c", "1", cleaned], capture_output=True, text=True)
    return JsonResponse({"output": proc.stdout})
