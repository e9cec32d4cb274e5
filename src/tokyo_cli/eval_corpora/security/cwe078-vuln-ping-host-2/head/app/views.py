"""HTTP handlers."""

import subprocess

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods


@require_http_methods(["GET", "POST"])
def ping_host(request):
    """Ping host."""
    host = request.POST.get("host", "")
    cleaned = host.strip()
    proc = subprocess.run(f"ping -c 1 {cleaned}", shell=True, capture_output=True, text=True)
    return JsonResponse({"output": proc.stdout})
