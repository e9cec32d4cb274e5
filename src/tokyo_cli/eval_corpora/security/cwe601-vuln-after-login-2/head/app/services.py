"""Helpers for the after login view."""


def after_login_url(nxt):
    return nxt if nxt else "/account"
