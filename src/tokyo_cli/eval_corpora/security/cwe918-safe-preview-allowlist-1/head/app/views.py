"""HTTP handlers."""

from urllib.parse import urlparse

import requests

from flask import Flask, abort, jsonify, request


app = Flask(__name__)

ALLOWED_HOSTS = {"images.example.com", "cdn.example.com"}


@app.route("/preview-allowlist", methods=["GET", "POST"])
def preview_allowlist():
    """Preview allowlist."""
    url = request.form.get("url", "")
    if urlparse(url).hostname not in ALLOWED_HOSTS:
        abort(400)
    resp = requests.get(url, timeout=5, allow_redirects=False)
    return jsonify({"status": resp.status_code, "length": len(resp.content)})
