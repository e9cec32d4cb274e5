"""Helpers for the import invoice view."""

import json
from lxml import etree


def invoice_total(xml_text):
    parser = etree.XMLParser(load_dtd=True, no_network=False)
    root = etree.fromstring(xml_text.encode(), parser=parser)
    return sum(float(x.text) for x in root.iter("amount"))
