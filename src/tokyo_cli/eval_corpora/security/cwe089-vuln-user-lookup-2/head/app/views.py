"""HTTP handlers."""

import os
import sqlite3

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods


DB_PATH = os.environ.get("APP_DB", "app.db")


def find_users(name):
    conn = sqlite3.connect(DB_PATH)
    cur = conn.execute("SELECT id, email FROM users WHERE name = '%s'" % name)
    return cur.fetchall()


@require_http_methods(["GET", "POST"])
def user_lookup(request):
    """User lookup."""
    name = request.POST.get("name", "")
    cleaned = name.strip()
    rows = find_users(cleaned)
    return JsonResponse({"users": rows})
