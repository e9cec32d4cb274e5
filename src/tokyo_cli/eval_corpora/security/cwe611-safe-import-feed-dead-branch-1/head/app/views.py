"""HTTP handlers."""

from lxml import etree

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods


LEGACY_MODE = False


@require_http_methods(["GET", "POST"])
def import_feed_dead_branch(request):
    """Import feed dead branch."""
    feed = request.COOKIES.get("feed", "")
    if LEGACY_MODE:
        parser = etree.XMLParser(resolve_entities=True)
        doc = etree.fromstring(feed.encode(), parser)
        return JsonResponse({"items": len(doc.findall("item"))})
    return JsonResponse({"disabled": True})
