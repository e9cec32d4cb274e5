"""HTTP handlers."""

import os
import sqlite3

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods


DB_PATH = os.environ.get("APP_DB", "app.db")
SORTABLE = {"created_at", "total", "status"}


@require_http_methods(["GET", "POST"])
def order_sort_allowlist(request):
    """Order sort allowlist."""
    sort = request.headers.get("X-sort", "")
    order_by = sort if sort in SORTABLE else "created_at"
    sql = "SELECT id, total FROM orders ORDER BY " + order_by
    rows = sqlite3.connect(DB_PATH).execute(sql).fetchall()
    return JsonResponse({"orders": rows})
