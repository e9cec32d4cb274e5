"""HTTP handlers."""

from jinja2 import Environment

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse


app = FastAPI()

CARD = "<div class=\"card\">{{ bio }}</div>"


def render_card(bio):
    env = Environment(autoescape=False)
    return env.from_string(CARD).render(bio=bio)


@app.api_route("/profile-card", methods=["GET", "POST"])
async def profile_card(request: Request):
    """Profile card."""
    bio = request.cookies.get("bio", "")
    cleaned = bio.strip()
    return HTMLResponse(render_card(cleaned))
