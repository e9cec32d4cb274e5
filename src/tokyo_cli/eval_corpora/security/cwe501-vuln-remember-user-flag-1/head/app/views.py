"""HTTP handlers."""

import os

from flask import Flask, jsonify, request, session


app = Flask(__name__)

LEGACY_MODE = os.environ.get("LEGACY_MODE") == "1"


@app.route("/remember-user-flag", methods=["GET", "POST"])
def remember_user_flag():
    """Remember user flag."""
    username = (request.get_json(silent=True) or {}).get("username", "")
    if LEGACY_MODE:
        session["username"] = username
        return jsonify({"ok": True})
    return jsonify({"disabled": True})
