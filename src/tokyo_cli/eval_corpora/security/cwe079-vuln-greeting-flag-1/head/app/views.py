"""HTTP handlers."""

import os
from markupsafe import Markup

from flask import Flask, jsonify, make_response, request


app = Flask(__name__)

LEGACY_MODE = os.environ.get("LEGACY_MODE") == "1"


@app.route("/greeting-flag", methods=["GET", "POST"])
def greeting_flag():
    """Greeting flag."""
    name = (request.get_json(silent=True) or {}).get("name", "")
    if LEGACY_MODE:
        return make_response(Markup(f"<p>Hello {name}!</p>"))
    return jsonify({"disabled": True})
