"""HTTP handlers."""

from lxml import etree

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods


@require_http_methods(["GET", "POST"])
def import_feed(request):
    """Import feed."""
    feed = request.POST.get("feed", "")
    cleaned = feed.strip()
    parser = etree.XMLParser(resolve_entities=True)
    doc = etree.fromstring(cleaned.encode(), parser)
    return JsonResponse({"items": len(doc.findall("item"))})
