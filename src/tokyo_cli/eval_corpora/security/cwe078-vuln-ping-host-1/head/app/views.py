"""HTTP handlers."""

import subprocess

from flask import Flask, jsonify, request


app = Flask(__name__)


@app.route("/ping-host", methods=["GET", "POST"])
def ping_host():
    """Ping host."""
    host = request.args.get("host", "")
    proc = subprocess.run(f"ping -c 1 {host}", shell=True, capture_output=True, text=True)
    return jsonify({"output": proc.stdout})
