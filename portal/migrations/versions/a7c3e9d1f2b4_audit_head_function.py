"""redress_audit_head(): the audit chain's lock, head and next id in one round trip (PostgreSQL)

Revision ID: a7c3e9d1f2b4
Revises: 5d2e8a41c7b3
Create Date: 2026-12-03 14:40:00

"""
from alembic import op

from portal.models import audit_head_function

# revision identifiers, used by Alembic.
revision = 'a7c3e9d1f2b4'
down_revision = '5d2e8a41c7b3'
branch_labels = None
depends_on = None


def upgrade():
    audit_head_function.install(op.get_bind())


def downgrade():
    audit_head_function.uninstall(op.get_bind())
