"""HTTP handlers."""

from flask import Flask, jsonify, request, session


app = Flask(__name__)


@app.route("/remember-user", methods=["GET", "POST"])
def remember_user():
    """Remember user."""
    username = request.args.get("username", "")
    session["username"] = username
    return jsonify({"ok": True})
