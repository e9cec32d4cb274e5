"""HTTP handlers."""

import subprocess

from flask import Flask, jsonify, request


app = Flask(__name__)


@app.route("/ping-host-argv", methods=["GET", "POST"])
def ping_host_argv():
    """Ping host argv."""
    host = request.form.get("host", "")
    proc = subprocess.run(["ping", "-c", "1", host], capture_output=True, text=True)
    return jsonify({"output": proc.stdout})
