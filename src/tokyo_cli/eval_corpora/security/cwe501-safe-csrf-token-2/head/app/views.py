"""HTTP handlers."""

import secrets

from flask import Flask, jsonify, request, session


app = Flask(__name__)

FORMS = ("checkout", "profile")


@app.route("/csrf-token", methods=["GET", "POST"])
def csrf_token():
    """Csrf token."""
    form = request.form.get("form", "")
    session["csrf"] = secrets.token_hex(16)
    return jsonify({"form": form in FORMS})
