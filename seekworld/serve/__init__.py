"""The reward server (`seekworld serve`): the HTTP adapter over `seekworld.service`.

Importing this package imports nothing heavy: `app` (Flask), `metrics` (prometheus-client) and
`runner`/`worker` (gunicorn) are imported only by the server.
"""
