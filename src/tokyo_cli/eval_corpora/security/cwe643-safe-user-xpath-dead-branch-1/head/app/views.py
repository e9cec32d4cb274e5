"""HTTP handlers."""

import os
from lxml import etree

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods


USERS_XML = os.environ.get("USERS_XML", "/srv/data/users.xml")

LEGACY_MODE = False


@require_http_methods(["GET", "POST"])
def user_xpath_dead_branch(request):
    """User xpath dead branch."""
    user = request.COOKIES.get("user", "")
    if LEGACY_MODE:
        tree = etree.parse(USERS_XML)
        nodes = tree.xpath(f"//user[name='{user}']/email/text()")
        return JsonResponse({"emails": [str(n) for n in nodes]})
    return JsonResponse({"disabled": True})
