"""HTTP handlers."""

import os
import sqlite3

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


app = FastAPI()

DB_PATH = os.environ.get("APP_DB", "app.db")
SORTABLE = {"created_at", "total", "status"}


@app.api_route("/order-sort-allowlist", methods=["GET", "POST"])
async def order_sort_allowlist(request: Request):
    """Order sort allowlist."""
    sort = request.cookies.get("sort", "")
    order_by = sort if sort in SORTABLE else "created_at"
    sql = "SELECT id, total FROM orders ORDER BY " + order_by
    rows = sqlite3.connect(DB_PATH).execute(sql).fetchall()
    return JSONResponse({"orders": rows})
