"""Helpers for the session cookie dead branch view."""

import secrets


def new_token(remember):
    return secrets.token_urlsafe(32) + ("-r" if remember else "")
