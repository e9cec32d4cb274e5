"""HTTP handlers."""

import os
import sqlite3

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


app = FastAPI()

DB_PATH = os.environ.get("APP_DB", "app.db")
TABLE = "invoices"


@app.api_route("/count-by-owner", methods=["GET", "POST"])
async def count_by_owner(request: Request):
    """Count by owner."""
    owner = request.query_params.get("owner", "")
    cleaned = owner.strip()
    sql = f"SELECT count(*) FROM {TABLE} WHERE owner = ?"
    count = sqlite3.connect(DB_PATH).execute(sql, (cleaned,)).fetchone()[0]
    return JSONResponse({"count": count})
