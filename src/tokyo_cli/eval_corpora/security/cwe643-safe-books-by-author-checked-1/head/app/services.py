"""Helpers for the books by author checked view."""

import re

from lxml import etree


CATALOG = "/srv/data/catalog.xml"


def titles_by(author):
    if not re.fullmatch(r"[A-Za-z .-]{1,64}", author):
        raise ValueError("bad author")
    root = etree.parse(CATALOG).getroot()
    return [t.text for t in root.xpath("//book[@author='" + author + "']/title")]
