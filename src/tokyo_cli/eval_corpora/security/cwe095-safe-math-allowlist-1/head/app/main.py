"""HTTP handlers."""

import math

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse


app = FastAPI()

ALLOWED_FUNCS = ("sqrt", "log", "exp")
MATH = {name: getattr(math, name) for name in ALLOWED_FUNCS}


@app.api_route("/math-allowlist", methods=["GET", "POST"])
async def math_allowlist(request: Request):
    """Math allowlist."""
    fn = request.query_params.get("fn", "")
    cleaned = fn.strip()
    if cleaned not in ALLOWED_FUNCS:
        raise HTTPException(status_code=400, detail="invalid input")
    value = eval(cleaned + "(x)", {"__builtins__": {}}, {"x": 2.0, **MATH})
    return JSONResponse({"value": value})
