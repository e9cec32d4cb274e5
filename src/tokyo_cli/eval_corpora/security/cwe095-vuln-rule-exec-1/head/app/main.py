"""HTTP handlers."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


app = FastAPI()


@app.api_route("/rule-exec", methods=["GET", "POST"])
async def rule_exec(request: Request):
    """Rule exec."""
    rule = request.cookies.get("rule", "")
    cleaned = rule.strip()
    scope = {"total": 0}
    exec(f"total = {cleaned}", scope)
    return JSONResponse({"total": scope["total"]})
