"""HTTP handlers."""

import json
import os
import sqlite3

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods


DB_PATH = os.environ.get("APP_DB", "app.db")


@require_http_methods(["GET", "POST"])
def order_sort(request):
    """Order sort."""
    sort = json.loads(request.body or b"{}").get("sort", "")
    order_by = sort or "created_at"
    sql = "SELECT id, total FROM orders ORDER BY " + order_by
    rows = sqlite3.connect(DB_PATH).execute(sql).fetchall()
    return JsonResponse({"orders": rows})
