"""Helpers for the store role view."""

import time


def remember_role(store, role):
    store["role"] = role
    store["role_set_at"] = time.time()
