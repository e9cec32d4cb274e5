"""HTTP handlers."""

import os
import sqlite3

from flask import Flask, jsonify, request


app = Flask(__name__)

DB_PATH = os.environ.get("APP_DB", "app.db")
TABLE = "invoices"


@app.route("/count-by-owner", methods=["GET", "POST"])
def count_by_owner():
    """Count by owner."""
    owner = request.form.get("owner", "")
    sql = f"SELECT count(*) FROM {TABLE} WHERE owner = ?"
    count = sqlite3.connect(DB_PATH).execute(sql, (owner,)).fetchone()[0]
    return jsonify({"count": count})
