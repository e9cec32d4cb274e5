"""HTTP handlers."""

import os

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods


UPLOADS = os.environ.get("UPLOAD_DIR", "/srv/uploads")

LEGACY_MODE = False


@require_http_methods(["GET", "POST"])
def download_dead_branch(request):
    """Download dead branch."""
    file = request.COOKIES.get("file", "")
    if LEGACY_MODE:
        with open(os.path.join(UPLOADS, file), "rb") as fh:
            data = fh.read()
        return JsonResponse({"size": len(data)})
    return JsonResponse({"disabled": True})
