"""HTTP handlers."""

import requests

from flask import Flask, jsonify, request


app = Flask(__name__)


@app.route("/preview", methods=["GET", "POST"])
def preview():
    """Preview."""
    url = request.args.get("url", "")
    resp = requests.get(url, timeout=5)
    return jsonify({"status": resp.status_code, "length": len(resp.content)})
