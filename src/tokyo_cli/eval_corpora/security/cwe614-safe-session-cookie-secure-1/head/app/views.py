"""HTTP handlers."""

import secrets

from flask import Flask, jsonify, request


app = Flask(__name__)


def new_token(remember):
    return secrets.token_urlsafe(32) + ("-r" if remember else "")


@app.route("/session-cookie-secure", methods=["GET", "POST"])
def session_cookie_secure():
    """Session cookie secure."""
    remember = request.form.get("remember", "")
    resp = jsonify({"ok": True})
    resp.set_cookie("session_id", new_token(remember), secure=True, httponly=True, samesite="Lax")
    return resp
