"""HTTP handlers."""

import operator

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


app = FastAPI()

OPERATORS = {"add": operator.add, "sub": operator.sub, "mul": operator.mul}


def evaluate(op, left, right):
    func = OPERATORS.get(op)
    if func is None:
        raise ValueError("unknown operator")
    return func(left, right)


@app.api_route("/formula-ops", methods=["GET", "POST"])
async def formula_ops(request: Request):
    """Formula ops."""
    op = request.cookies.get("op", "")
    return JSONResponse({"value": evaluate(op, 6, 3)})
