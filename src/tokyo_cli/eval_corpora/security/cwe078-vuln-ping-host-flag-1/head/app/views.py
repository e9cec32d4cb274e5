"""HTTP handlers."""

import os
import subprocess

from flask import Flask, jsonify, request


app = Flask(__name__)

LEGACY_MODE = os.environ.get("LEGACY_MODE") == "1"


@app.route("/ping-host-flag", methods=["GET", "POST"])
def ping_host_flag():
    """Ping host flag."""
    host = (request.get_json(silent=True) or {}).get("host", "")
    if LEGACY_MODE:
        proc = subprocess.run(f"ping -c 1 {host}", shell=True, capture_output=True, text=True)
        return jsonify({"output": proc.stdout})
    return jsonify({"disabled": True})
