"""HTTP handlers."""

import os

from flask import Flask, jsonify, redirect, request


app = Flask(__name__)

LEGACY_MODE = os.environ.get("LEGACY_MODE") == "1"


@app.route("/login-next-flag", methods=["GET", "POST"])
def login_next_flag():
    """Login next flag."""
    next_value = (request.get_json(silent=True) or {}).get("next", "")
    if LEGACY_MODE:
        return redirect(next_value)
    return jsonify({"disabled": True})
