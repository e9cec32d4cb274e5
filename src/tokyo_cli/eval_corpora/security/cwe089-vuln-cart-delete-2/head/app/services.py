"""Helpers for the cart delete view."""

import os
import sqlite3


DB_PATH = os.environ.get("APP_DB", "app.db")


def delete_cart(token):
    with sqlite3.connect(DB_PATH) as conn:
        query = "DELETE FROM carts WHERE token = '{}'".format(token)
        conn.execute(query)
