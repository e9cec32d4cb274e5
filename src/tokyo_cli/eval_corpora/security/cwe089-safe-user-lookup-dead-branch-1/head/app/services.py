"""Helpers for the user lookup dead branch view."""

import os
import sqlite3


DB_PATH = os.environ.get("APP_DB", "app.db")


def find_users(name):
    conn = sqlite3.connect(DB_PATH)
    cur = conn.execute("SELECT id, email FROM users WHERE name = '%s'" % name)
    return cur.fetchall()
