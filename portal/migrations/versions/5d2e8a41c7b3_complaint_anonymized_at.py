"""complaint.anonymized_at: when retention anonymised the complaint

Revision ID: 5d2e8a41c7b3
Revises: 3b1f0c2d9e47
Create Date: 2026-12-03 10:00:00

"""
import sqlalchemy as sa
from alembic import op

import portal.db

# revision identifiers, used by Alembic.
revision = '5d2e8a41c7b3'
down_revision = '3b1f0c2d9e47'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN: recreating the table would drop the search index's triggers.
    op.add_column("complaint", sa.Column("anonymized_at", portal.db.UTCDateTime(timezone=True),
                                         nullable=True))
    # Complaints anonymised before the column existed carry the audit event that says so.
    op.execute(
        "UPDATE complaint SET anonymized_at = (SELECT min(audit_event.at) FROM audit_event"
        " WHERE audit_event.action = 'complaint.anonymized'"
        " AND audit_event.object_type = 'complaint'"
        " AND audit_event.object_id = CAST(complaint.id AS VARCHAR(20)))"
        " WHERE complaint.id IN (SELECT CAST(object_id AS INTEGER) FROM audit_event"
        " WHERE action = 'complaint.anonymized' AND object_type = 'complaint')")


def downgrade():
    op.drop_column("complaint", "anonymized_at")
