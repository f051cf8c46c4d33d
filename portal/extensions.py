"""Extension instances, initialised by the application factory."""

from flask_babel import Babel
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx

login_manager = LoginManager()
babel = Babel()
mail = Mail()
csrf = CSRFProtect()
htmx = Htmx()
migrate = Migrate()
