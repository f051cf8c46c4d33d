"""narrative search index

Revision ID: 7483e34e33bf
Revises: 9cf064dcb6ee
Create Date: 2026-12-02 15:56:23.202775

"""
from alembic import op
import sqlalchemy as sa  # noqa: F401

from portal.models import search_index

import portal.db


# revision identifiers, used by Alembic.
revision = '7483e34e33bf'
down_revision = '9cf064dcb6ee'
branch_labels = None
depends_on = None


def upgrade():
    search_index.install(op.get_bind(), rebuild=True)


def downgrade():
    search_index.uninstall(op.get_bind())
