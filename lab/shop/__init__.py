"""The lab's e-commerce service: one shop pod is one uvicorn + Starlette process (uvloop, httptools).

Run a pod (the password and token key come from the environment, never argv)::

    PGPASSWORD=... SHOP_TOKEN_KEY=... python -m aftershock.lab.shop --name shop-us-east-1a-x7k2 \\
        --region us-east-1 --az us-east-1a --port 43123 \\
        --writer "host=127.0.0.1 port=5501 dbname=shop user=shop" \\
        --reader "host=127.0.0.1 port=5502 dbname=shop user=shop"

Build the app in-process with :func:`aftershock.lab.shop.app.create_app` and (re)seed a database with
:func:`aftershock.lab.shop.schema.load_schema_and_seed`.

HTTP API (JSON; every response carries ``X-Pod``, ``X-Region``, ``X-AZ``):

* ``GET /health`` liveness; ``GET /ready`` 200 once a reader query worked, 503 while starting or draining;
  ``GET /metrics`` ``requests_total`` / ``errors_total`` / ``inflight`` count ``/api/`` requests only.
* reader: ``GET /api/products?page&size&category``, ``GET /api/search?q&limit``, ``GET /api/products/{id}``,
  ``POST /api/login`` (``shopper-<n>`` / ``pw-<n>``, lab test credentials) -> bearer token.
* writer (``Authorization: Bearer <token>``): ``GET /api/cart``, ``POST /api/cart/items``,
  ``DELETE /api/cart/items/{product_id}``, ``POST /api/checkout`` (201; 409 on an empty cart),
  ``GET /api/orders/{id}``.
* any database trouble: a fast ``503 {"error": "database unavailable"}``.
"""

from __future__ import annotations
