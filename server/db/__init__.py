"""The database: the unbound Flask-SQLAlchemy extension (bound in create_app), its engine
settings (`engine`), the models, the bulk SQL the write path uses and the search objects."""

from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Table
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session


class Base(DeclarativeBase):
    if TYPE_CHECKING:
        # Every model is mapped to a Table (none to a join or a select); SQLAlchemy types
        # `__table__` as the wider FromClause.
        __table__: ClassVar[Table]


# `db.session` is a scoped_session standing for the request's Session; the write path takes
# either.
AnySession: TypeAlias = Session | scoped_session[Any]

db = SQLAlchemy(model_class=Base)
