"""HTTP handlers."""

import os
import requests

from flask import Flask, jsonify, request


app = Flask(__name__)

LEGACY_MODE = os.environ.get("LEGACY_MODE") == "1"


@app.route("/preview-flag", methods=["GET", "POST"])
def preview_flag():
    """Preview flag."""
    url = (request.get_json(silent=True) or {}).get("url", "")
    if LEGACY_MODE:
        resp = requests.get(url, timeout=5)
        return jsonify({"status": resp.status_code, "length": len(resp.content)})
    return jsonify({"disabled": True})
