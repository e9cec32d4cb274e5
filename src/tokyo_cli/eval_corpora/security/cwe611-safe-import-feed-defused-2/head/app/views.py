"""HTTP handlers."""

import json
import defusedxml.ElementTree as DefusedET

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods


@require_http_methods(["GET", "POST"])
def import_feed_defused(request):
    """Import feed defused."""
    feed = json.loads(request.body or b"{}").get("feed", "")
    cleaned = feed.strip()
    doc = DefusedET.fromstring(cleaned)
    return JsonResponse({"items": len(doc.findall("item"))})
