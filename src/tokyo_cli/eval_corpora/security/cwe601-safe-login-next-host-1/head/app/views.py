"""HTTP handlers."""

import os
from urllib.parse import urlparse

from flask import Flask, redirect, request


app = Flask(__name__)

ALLOWED_HOST = os.environ.get("APP_HOST", "shop.example.com")


@app.route("/login-next-host", methods=["GET", "POST"])
def login_next_host():
    """Login next host."""
    next_value = request.form.get("next", "")
    parts = urlparse(next_value.replace("\\", "/"))  # browsers read a backslash as a slash
    if parts.scheme not in ("", "https") or parts.netloc not in ("", ALLOWED_HOST) or not next_value.isprintable():
        next_value = "/"
    return redirect(next_value)
