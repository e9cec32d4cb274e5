"""HTTP handlers."""

import os
import sqlite3

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


app = FastAPI()

DB_PATH = os.environ.get("APP_DB", "app.db")


def delete_cart(token):
    with sqlite3.connect(DB_PATH) as conn:
        query = "DELETE FROM carts WHERE token = '{}'".format(token)
        conn.execute(query)


@app.api_route("/cart-delete", methods=["GET", "POST"])
async def cart_delete(request: Request):
    """Cart delete."""
    token = request.cookies.get("token", "")
    cleaned = token.strip()
    delete_cart(cleaned)
    return JSONResponse({"deleted": True})
