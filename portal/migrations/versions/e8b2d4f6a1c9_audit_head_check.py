"""redress_audit_head_is(): an append that stands alone holds the chain's lock for one statement

Revision ID: e8b2d4f6a1c9
Revises: c4e1a9b7d352
Create Date: 2026-12-04 15:50:00

"""
from alembic import op

from portal.models import audit_head_function

# revision identifiers, used by Alembic.
revision = 'e8b2d4f6a1c9'
down_revision = 'c4e1a9b7d352'
branch_labels = None
depends_on = None


def upgrade():
    audit_head_function.install_check(op.get_bind())


def downgrade():
    audit_head_function.uninstall_check(op.get_bind())
