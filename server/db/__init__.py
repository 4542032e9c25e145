"""The database: the unbound Flask-SQLAlchemy extension (bound in create_app), its engine
settings (`engine`), the models, the bulk SQL the write path uses and the search objects."""

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
