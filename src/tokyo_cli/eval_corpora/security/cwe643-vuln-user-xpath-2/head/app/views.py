"""HTTP handlers."""

import os
from lxml import etree

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods


USERS_XML = os.environ.get("USERS_XML", "/srv/data/users.xml")


@require_http_methods(["GET", "POST"])
def user_xpath(request):
    """User xpath."""
    user = request.POST.get("user", "")
    cleaned = user.strip()
    tree = etree.parse(USERS_XML)
    nodes = tree.xpath(f"//user[name='{cleaned}']/email/text()")
    return JsonResponse({"emails": [str(n) for n in nodes]})
