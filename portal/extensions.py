"""Extension instances, created unbound; `create_app` wires them to an app."""
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData

from portal.security import client_network

# Named constraints keep migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
migrate = Migrate()
mail = Mail()
csrf = CSRFProtect()
login_manager = LoginManager()
# Limits are declared per route, counted per client network (an IPv6 /64 is one client);
# storage from config.
limiter = Limiter(key_func=client_network)
