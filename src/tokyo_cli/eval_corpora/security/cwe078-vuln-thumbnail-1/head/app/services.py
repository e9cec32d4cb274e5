"""Helpers for the thumbnail view."""

import json
import os


UPLOADS = os.environ.get("UPLOAD_DIR", "/srv/uploads")


def make_thumbnail(filename):
    src = os.path.join(UPLOADS, filename)
    os.system("convert " + src + " -resize 128x128 " + src + ".thumb.png")
