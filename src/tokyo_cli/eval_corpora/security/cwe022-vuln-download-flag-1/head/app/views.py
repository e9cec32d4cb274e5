"""HTTP handlers."""

import os

from flask import Flask, jsonify, request


app = Flask(__name__)

UPLOADS = os.environ.get("UPLOAD_DIR", "/srv/uploads")

LEGACY_MODE = os.environ.get("LEGACY_MODE") == "1"


@app.route("/download-flag", methods=["GET", "POST"])
def download_flag():
    """Download flag."""
    file = (request.get_json(silent=True) or {}).get("file", "")
    if LEGACY_MODE:
        with open(os.path.join(UPLOADS, file), "rb") as fh:
            data = fh.read()
        return jsonify({"size": len(data)})
    return jsonify({"disabled": True})
