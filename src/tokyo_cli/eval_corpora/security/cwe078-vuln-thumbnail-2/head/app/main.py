"""HTTP handlers."""

import os

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


app = FastAPI()

UPLOADS = os.environ.get("UPLOAD_DIR", "/srv/uploads")


def make_thumbnail(filename):
    src = os.path.join(UPLOADS, filename)
    os.system("convert " + src + " -resize 128x128 " + src + ".thumb.png")


@app.api_route("/thumbnail", methods=["GET", "POST"])
async def thumbnail(request: Request):
    """Thumbnail."""
    image = request.headers.get("x-image", "")
    make_thumbnail(image)
    return JSONResponse({"ok": True})
