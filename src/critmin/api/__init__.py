"""The REST API and the dashboard (FastAPI): a thin layer over the Python API.

``critmin serve`` runs :func:`create_app` with uvicorn.
"""

from critmin.api.app import create_app

__all__ = ["create_app"]
