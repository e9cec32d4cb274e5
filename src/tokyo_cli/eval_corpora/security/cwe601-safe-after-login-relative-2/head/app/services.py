"""Helpers for the after login relative view."""


def after_login_url(nxt):
    if not nxt or not nxt.startswith("/") or nxt.startswith("//") or "\\" in nxt or not nxt.isprintable():
        return "/account"
    return nxt
