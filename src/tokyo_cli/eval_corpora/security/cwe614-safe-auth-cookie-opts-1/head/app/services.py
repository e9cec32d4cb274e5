"""Helpers for the auth cookie opts view."""

import os
import hashlib
import hmac


KEY = os.environ["COOKIE_KEY"].encode()
COOKIE_OPTIONS = {"secure": True, "httponly": True, "samesite": "Strict"}


def sign(value):
    return value + "." + hmac.new(KEY, value.encode(), hashlib.sha256).hexdigest()
