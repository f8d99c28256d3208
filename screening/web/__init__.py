"""`screening serve`: the review workspace in the browser (docs/serve.md).

passwords.py (the KDF) has no web dependency, so `screening users` works without it; app.py
builds the Starlette app; security.py holds sessions, CSRF, the login rate limit and the
response headers; runner.py screens batches on a background thread; views*.py are the pages.
"""
