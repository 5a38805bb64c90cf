"""Reward server (`seekworld serve`) and the service both adapters share.

Importing this package imports nothing heavy: `app` (Flask), `metrics` (prometheus-client) and
`runner` (gunicorn) are imported only by the server; `service` and `audit` are framework-free.
"""
