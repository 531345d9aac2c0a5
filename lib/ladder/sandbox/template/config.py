"""Settings for the items app, read from the environment at startup."""

import os

DB_PATH = os.environ.get("APP_DB_PATH", "app.db")

# Never print or log this one.
SECRET_KEY = os.environ.get("APP_SECRET_KEY", "")

ENV = os.environ.get("APP_ENV", "development")

VERSION = os.environ.get("APP_VERSION", "")
