"""Helpers for the login session view."""

import os
import hashlib
import hmac


USERS = {"alice": {"id": 1, "hash": os.environ.get("ALICE_HASH", "")}}


def authenticate(username, password):
    record = USERS.get(username)
    if record and hmac.compare_digest(record["hash"], hashlib.sha256(password.encode()).hexdigest()):
        return record
    return None
