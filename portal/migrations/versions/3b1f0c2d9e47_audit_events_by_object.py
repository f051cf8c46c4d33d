"""audit events by object

Revision ID: 3b1f0c2d9e47
Revises: 7483e34e33bf
Create Date: 2026-12-03 07:35:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '3b1f0c2d9e47'
down_revision = '7483e34e33bf'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_audit_event_object", "audit_event", ["object_type", "object_id"])


def downgrade():
    op.drop_index("ix_audit_event_object", table_name="audit_event")
