"""Entry point for gunicorn (`gunicorn wsgi:app`) and `flask --app wsgi`."""
from dotenv import load_dotenv

load_dotenv()

from portal import create_app_or_exit  # noqa: E402  (settings come from the environment loaded above)

app = create_app_or_exit()
