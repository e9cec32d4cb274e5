"""HTTP handlers."""

import json
import os
from lxml import etree

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods


USERS_XML = os.environ.get("USERS_XML", "/srv/data/users.xml")


@require_http_methods(["GET", "POST"])
def user_xpath_vars(request):
    """User xpath vars."""
    user = json.loads(request.body or b"{}").get("user", "")
    cleaned = user.strip()
    tree = etree.parse(USERS_XML)
    nodes = tree.xpath("//user[name=$name]/email/text()", name=cleaned)
    return JsonResponse({"emails": [str(n) for n in nodes]})
