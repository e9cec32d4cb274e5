"""Helpers for the avatar fetch view."""

import httpx


def fetch_avatar(url):
    with httpx.Client(timeout=5) as client:
        return len(client.get(url).content)
