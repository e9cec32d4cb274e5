"""Helpers for the signed state view."""

import os
import base64
import hashlib
import hmac
import pickle


SECRET_KEY = os.environ["STATE_SIGNING_KEY"].encode()


def load_state(token):
    blob, _, mac = base64.b64decode(token).rpartition(b".")
    expected = hmac.new(SECRET_KEY, blob, hashlib.sha256).hexdigest().encode()
    if not hmac.compare_digest(mac, expected):
        raise ValueError("bad signature")
    return pickle.loads(blob)
