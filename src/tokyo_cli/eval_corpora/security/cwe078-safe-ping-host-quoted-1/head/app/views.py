"""HTTP handlers."""

import shlex
import subprocess

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods


@require_http_methods(["GET", "POST"])
def ping_host_quoted(request):
    """Ping host quoted."""
    host = request.headers.get("X-host", "")
    proc = subprocess.run(f"ping -c 1 {shlex.quote(host)}", shell=True, capture_output=True, text=True)
    return JsonResponse({"output": proc.stdout})
