"""audit_event.hash: no unique index (nothing looks an event up by its hash)

Every append wrote a leaf of this index at a random place (the hash is an HMAC): at a million
events the index is larger than PostgreSQL's default shared buffers, and a case file's view,
whose cost is its audit row, slowed by a fifth. The chain is verified by id
(portal/services/audit.py: `verify`), and a duplicate hash would be a broken link found there.

Revision ID: c4e1a9b7d352
Revises: a7c3e9d1f2b4
Create Date: 2026-12-03 21:00:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c4e1a9b7d352'
down_revision = 'a7c3e9d1f2b4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_event') as batch_op:
        batch_op.drop_constraint('uq_audit_event_hash', type_='unique')


def downgrade():
    with op.batch_alter_table('audit_event') as batch_op:
        batch_op.create_unique_constraint('uq_audit_event_hash', ['hash'])
