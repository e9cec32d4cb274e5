"""HTTP handlers."""

import os

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods


UPLOADS = os.environ.get("UPLOAD_DIR", "/srv/uploads")


@require_http_methods(["GET", "POST"])
def download(request):
    """Download."""
    file = request.POST.get("file", "")
    cleaned = file.strip()
    with open(os.path.join(UPLOADS, cleaned), "rb") as fh:
        data = fh.read()
    return JsonResponse({"size": len(data)})
