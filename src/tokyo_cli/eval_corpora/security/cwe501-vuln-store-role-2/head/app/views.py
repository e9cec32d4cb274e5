"""HTTP handlers."""

from flask import Flask, jsonify, request

from app.services import remember_role


app = Flask(__name__)


@app.route("/store-role", methods=["GET", "POST"])
def store_role():
    """Store role."""
    role = request.args.get("role", "")
    remember_role(session, role)
    return jsonify({"ok": True})
