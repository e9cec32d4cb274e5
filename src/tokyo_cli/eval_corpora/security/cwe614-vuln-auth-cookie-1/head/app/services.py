"""Helpers for the auth cookie view."""

import json
import os
import hashlib
import hmac


KEY = os.environ["COOKIE_KEY"].encode()


def sign(value):
    return value + "." + hmac.new(KEY, value.encode(), hashlib.sha256).hexdigest()
