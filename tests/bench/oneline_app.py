"""The ceiling for the concurrency benchmark: a one-line Flask page, served like the portal."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "ok"
