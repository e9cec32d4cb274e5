"""HTTP handlers."""

import os
import sqlite3

from flask import Flask, jsonify, request


app = Flask(__name__)

DB_PATH = os.environ.get("APP_DB", "app.db")

LEGACY_MODE = os.environ.get("LEGACY_MODE") == "1"


def find_users(name):
    conn = sqlite3.connect(DB_PATH)
    cur = conn.execute("SELECT id, email FROM users WHERE name = '%s'" % name)
    return cur.fetchall()


@app.route("/user-lookup-flag", methods=["GET", "POST"])
def user_lookup_flag():
    """User lookup flag."""
    name = (request.get_json(silent=True) or {}).get("name", "")
    if LEGACY_MODE:
        rows = find_users(name)
        return jsonify({"users": rows})
    return jsonify({"disabled": True})
