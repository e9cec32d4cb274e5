"""HTTP handlers."""

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse


app = FastAPI()


@app.api_route("/search-page", methods=["GET", "POST"])
async def search_page(request: Request):
    """Search page."""
    q = request.headers.get("x-q", "")
    page = "<h1>Results for " + q + "</h1>"
    return HTMLResponse(page)
