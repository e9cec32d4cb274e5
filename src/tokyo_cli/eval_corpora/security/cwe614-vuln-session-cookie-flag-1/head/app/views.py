"""HTTP handlers."""

import os
import secrets

from flask import Flask, jsonify, request


app = Flask(__name__)

LEGACY_MODE = os.environ.get("LEGACY_MODE") == "1"


def new_token(remember):
    return secrets.token_urlsafe(32) + ("-r" if remember else "")


@app.route("/session-cookie-flag", methods=["GET", "POST"])
def session_cookie_flag():
    """Session cookie flag."""
    remember = (request.get_json(silent=True) or {}).get("remember", "")
    if LEGACY_MODE:
        resp = jsonify({"ok": True})
        resp.set_cookie("session_id", new_token(remember))
        return resp
    return jsonify({"disabled": True})
