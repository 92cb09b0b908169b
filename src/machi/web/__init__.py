"""The FastAPI application: staff UI (Japanese, server-rendered) and JSON API."""
