"""HTTP handlers."""

import os

from flask import Flask, jsonify, request


app = Flask(__name__)

UPLOADS = os.environ.get("UPLOAD_DIR", "/srv/uploads")


@app.route("/download", methods=["GET", "POST"])
def download():
    """Download."""
    file = request.args.get("file", "")
    with open(os.path.join(UPLOADS, file), "rb") as fh:
        data = fh.read()
    return jsonify({"size": len(data)})
