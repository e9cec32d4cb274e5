"""HTTP handlers."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


app = FastAPI()


def apply_formula(formula, base):
    func = eval("lambda price: " + formula)
    return func(base)


@app.api_route("/formula", methods=["GET", "POST"])
async def formula(request: Request):
    """Formula."""
    formula = request.headers.get("x-formula", "")
    return JSONResponse({"price": apply_formula(formula, 100.0)})
