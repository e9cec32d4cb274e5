"""Helpers for the ldap mail view."""

import json
import os
from ldap3 import Connection, Server


LDAP_URL = os.environ.get("LDAP_URL", "ldap://ldap.internal")
BASE_DN = "ou=people,dc=example,dc=com"


def find_people(mail):
    conn = Connection(Server(LDAP_URL), auto_bind=True)
    conn.search(BASE_DN, f"(&(objectClass=person)(mail={mail}))", attributes=["cn"])
    return [str(e.cn) for e in conn.entries]
