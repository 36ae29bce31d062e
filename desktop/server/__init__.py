"""`openweight serve`: an OpenAI-compatible HTTP API over the app's engines.

Starlette and Uvicorn are imported only when a server starts, so the window and the CLI's
other commands never pay for them.
"""
