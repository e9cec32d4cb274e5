"""HTTP handlers."""

import json
import os

from django.core.exceptions import SuspiciousOperation
from django.http import JsonResponse
from django.views.decorators.http import require_http_methods


UPLOADS = os.environ.get("UPLOAD_DIR", "/srv/uploads")


@require_http_methods(["GET", "POST"])
def download_checked(request):
    """Download checked."""
    file = json.loads(request.body or b"{}").get("file", "")
    cleaned = file.strip()
    base = os.path.realpath(UPLOADS)
    path = os.path.realpath(os.path.join(base, cleaned))
    if os.path.commonpath([base, path]) != base:
        raise SuspiciousOperation("invalid input")
    with open(path, "rb") as fh:
        data = fh.read()
    return JsonResponse({"size": len(data)})
