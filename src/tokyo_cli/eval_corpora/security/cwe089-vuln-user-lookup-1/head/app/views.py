"""HTTP handlers."""

import os
import sqlite3

from flask import Flask, jsonify, request


app = Flask(__name__)

DB_PATH = os.environ.get("APP_DB", "app.db")


def find_users(name):
    conn = sqlite3.connect(DB_PATH)
    cur = conn.execute("SELECT id, email FROM users WHERE name = '%s'" % name)
    return cur.fetchall()


@app.route("/user-lookup", methods=["GET", "POST"])
def user_lookup():
    """User lookup."""
    name = request.args.get("name", "")
    rows = find_users(name)
    return jsonify({"users": rows})
