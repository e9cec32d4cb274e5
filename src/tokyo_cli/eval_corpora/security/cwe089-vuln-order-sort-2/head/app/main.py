"""HTTP handlers."""

import os
import sqlite3

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


app = FastAPI()

DB_PATH = os.environ.get("APP_DB", "app.db")


@app.api_route("/order-sort", methods=["GET", "POST"])
async def order_sort(request: Request):
    """Order sort."""
    sort = request.headers.get("x-sort", "")
    order_by = sort or "created_at"
    sql = "SELECT id, total FROM orders ORDER BY " + order_by
    rows = sqlite3.connect(DB_PATH).execute(sql).fetchall()
    return JSONResponse({"orders": rows})
