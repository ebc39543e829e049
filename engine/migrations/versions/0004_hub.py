"""data hub, analytics, responsibility lists

The data hub's tables (production and supervision records, focus items,
recommendations, analysis runs) and the versioned responsibility lists. Its own
branch ("hub") off 0002, so it lands independently of the IoT branch.

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-29 00:26:01.379375

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from engine.models import UtcDateTime

# revision identifiers, used by Alembic.
revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = ('hub',)
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('analysis_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('analysis', sa.String(length=32), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('params', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('input_digest', sa.String(length=64), nullable=False),
    sa.Column('result', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('result_digest', sa.String(length=64), nullable=False),
    sa.Column('started_at', UtcDateTime(), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('run_by', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('analysis_runs', schema=None) as batch_op:
        batch_op.create_index('ix_analysis_run_lookup', ['analysis', 'period', 'id'], unique=False)

    op.create_table('duty_lists',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=64), nullable=False),
    sa.Column('scope', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', UtcDateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('role', 'scope', 'version', name='uq_duty_list_version')
    )
    with op.batch_alter_table('duty_lists', schema=None) as batch_op:
        batch_op.create_index('ix_duty_list_current', ['role', 'scope', 'version'], unique=False)

    op.create_table('hub_alerts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('ref', sa.String(length=120), nullable=False),
    sa.Column('raised_at', UtcDateTime(), nullable=False),
    sa.Column('area', sa.String(length=64), nullable=False),
    sa.Column('grade', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=True),
    sa.Column('owner_department', sa.String(length=64), nullable=True),
    sa.Column('handled_at', UtcDateTime(), nullable=True),
    sa.Column('closed_at', UtcDateTime(), nullable=True),
    sa.Column('disposal', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('updated_at', UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ref')
    )
    with op.batch_alter_table('hub_alerts', schema=None) as batch_op:
        batch_op.create_index('ix_hub_alert_raised', ['raised_at'], unique=False)

    op.create_table('hub_equipment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('area', sa.String(length=64), nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('rated_load', sa.Float(), nullable=True),
    sa.Column('rated_unit', sa.String(length=32), nullable=True),
    sa.Column('department', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=True),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('updated_at', UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    with op.batch_alter_table('hub_equipment', schema=None) as batch_op:
        batch_op.create_index('ix_hub_equipment_area', ['area'], unique=False)

    op.create_table('hub_equipment_runs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('equipment_code', sa.String(length=64), nullable=False),
    sa.Column('started_at', UtcDateTime(), nullable=False),
    sa.Column('hours', sa.Float(), nullable=False),
    sa.Column('load_pct', sa.Float(), nullable=False),
    sa.Column('faults', sa.Integer(), nullable=False),
    sa.Column('maintenance', sa.Boolean(), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('updated_at', UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('equipment_code', 'started_at', name='uq_hub_run_equipment_start')
    )
    with op.batch_alter_table('hub_equipment_runs', schema=None) as batch_op:
        batch_op.create_index('ix_hub_run_started', ['started_at'], unique=False)

    op.create_table('hub_escalations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('ref', sa.String(length=120), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('department', sa.String(length=64), nullable=True),
    sa.Column('duty_type', sa.String(length=64), nullable=True),
    sa.Column('received_at', UtcDateTime(), nullable=False),
    sa.Column('closed_at', UtcDateTime(), nullable=True),
    sa.Column('closed_by', sa.String(length=100), nullable=True),
    sa.Column('instance_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('updated_at', UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ref')
    )
    with op.batch_alter_table('hub_escalations', schema=None) as batch_op:
        batch_op.create_index('ix_hub_escalation_received', ['received_at'], unique=False)

    op.create_table('hub_hazards',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('ref', sa.String(length=120), nullable=False),
    sa.Column('found_at', UtcDateTime(), nullable=False),
    sa.Column('area', sa.String(length=64), nullable=False),
    sa.Column('equipment_code', sa.String(length=64), nullable=True),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('department', sa.String(length=64), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('deadline', UtcDateTime(), nullable=True),
    sa.Column('closed_at', UtcDateTime(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reported_by', sa.String(length=100), nullable=True),
    sa.Column('rectified_by', sa.String(length=100), nullable=True),
    sa.Column('instance_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('updated_at', UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ref')
    )
    with op.batch_alter_table('hub_hazards', schema=None) as batch_op:
        batch_op.create_index('ix_hub_hazard_deadline', ['department', 'deadline'], unique=False)
        batch_op.create_index('ix_hub_hazard_equipment', ['equipment_code', 'found_at'], unique=False)
        batch_op.create_index('ix_hub_hazard_found', ['found_at'], unique=False)

    op.create_table('hub_inspections',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('ref', sa.String(length=120), nullable=False),
    sa.Column('at', UtcDateTime(), nullable=False),
    sa.Column('area', sa.String(length=64), nullable=False),
    sa.Column('department', sa.String(length=64), nullable=True),
    sa.Column('inspector', sa.String(length=100), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('found_issue', sa.Boolean(), nullable=False),
    sa.Column('findings', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('instance_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('updated_at', UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ref')
    )
    with op.batch_alter_table('hub_inspections', schema=None) as batch_op:
        batch_op.create_index('ix_hub_inspection_at', ['at'], unique=False)

    op.create_table('hub_material_flows',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('ref', sa.String(length=120), nullable=False),
    sa.Column('material', sa.String(length=200), nullable=False),
    sa.Column('hazardous', sa.Boolean(), nullable=False),
    sa.Column('flow', sa.String(length=16), nullable=False),
    sa.Column('quantity', sa.Float(), nullable=False),
    sa.Column('unit', sa.String(length=16), nullable=False),
    sa.Column('area', sa.String(length=64), nullable=False),
    sa.Column('at', UtcDateTime(), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('updated_at', UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ref')
    )
    with op.batch_alter_table('hub_material_flows', schema=None) as batch_op:
        batch_op.create_index('ix_hub_material_at', ['at'], unique=False)

    op.create_table('hub_people',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('username', sa.String(length=100), nullable=True),
    sa.Column('department', sa.String(length=64), nullable=False),
    sa.Column('post', sa.String(length=64), nullable=False),
    sa.Column('team', sa.String(length=64), nullable=True),
    sa.Column('qualifications', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('updated_at', UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    with op.batch_alter_table('hub_people', schema=None) as batch_op:
        batch_op.create_index('ix_hub_people_department', ['department'], unique=False)
        batch_op.create_index('ix_hub_people_username', ['username'], unique=False)

    # connectors/hub.py creates the same table on first use when the hub branch
    # was not migrated yet; adopt it then instead of failing.
    if not sa.inspect(op.get_bind()).has_table('hub_records'):
        op.create_table('hub_records',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('kind', sa.String(length=100), nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('updated_at', UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('kind', 'key', name='uq_hub_records_kind_key')
        )
        with op.batch_alter_table('hub_records', schema=None) as batch_op:
            batch_op.create_index('ix_hub_records_kind', ['kind'], unique=False)

    op.create_table('hub_risk_points',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('area', sa.String(length=64), nullable=False),
    sa.Column('grade', sa.String(length=16), nullable=False),
    sa.Column('equipment_code', sa.String(length=64), nullable=True),
    sa.Column('department', sa.String(length=64), nullable=True),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('updated_at', UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('hub_stops',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('ref', sa.String(length=120), nullable=False),
    sa.Column('area', sa.String(length=64), nullable=False),
    sa.Column('department', sa.String(length=64), nullable=True),
    sa.Column('started_at', UtcDateTime(), nullable=False),
    sa.Column('ended_at', UtcDateTime(), nullable=True),
    sa.Column('cause_kind', sa.String(length=16), nullable=False),
    sa.Column('cause', sa.Text(), nullable=False),
    sa.Column('instance_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('updated_at', UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ref')
    )
    with op.batch_alter_table('hub_stops', schema=None) as batch_op:
        batch_op.create_index('ix_hub_stop_started', ['started_at'], unique=False)

    op.create_table('hub_trainings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('person_code', sa.String(length=64), nullable=False),
    sa.Column('course', sa.String(length=200), nullable=False),
    sa.Column('completed_on', sa.Date(), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('updated_at', UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('person_code', 'course', 'completed_on', name='uq_hub_training')
    )
    with op.batch_alter_table('hub_trainings', schema=None) as batch_op:
        batch_op.create_index('ix_hub_training_expiry', ['expires_on'], unique=False)

    op.create_table('hub_violations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('ref', sa.String(length=120), nullable=False),
    sa.Column('at', UtcDateTime(), nullable=False),
    sa.Column('person_code', sa.String(length=64), nullable=True),
    sa.Column('post', sa.String(length=64), nullable=True),
    sa.Column('team', sa.String(length=64), nullable=True),
    sa.Column('area', sa.String(length=64), nullable=False),
    sa.Column('department', sa.String(length=64), nullable=True),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('instance_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('updated_at', UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ref')
    )
    with op.batch_alter_table('hub_violations', schema=None) as batch_op:
        batch_op.create_index('ix_hub_violation_area_at', ['area', 'at'], unique=False)
        batch_op.create_index('ix_hub_violation_at', ['at'], unique=False)

    op.create_table('hub_work_records',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('ref', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('grade', sa.String(length=32), nullable=True),
    sa.Column('area', sa.String(length=64), nullable=False),
    sa.Column('department', sa.String(length=64), nullable=True),
    sa.Column('team', sa.String(length=64), nullable=True),
    sa.Column('post', sa.String(length=64), nullable=True),
    sa.Column('person_code', sa.String(length=64), nullable=True),
    sa.Column('equipment_code', sa.String(length=64), nullable=True),
    sa.Column('started_at', UtcDateTime(), nullable=False),
    sa.Column('ended_at', UtcDateTime(), nullable=True),
    sa.Column('workers', sa.Integer(), nullable=False),
    sa.Column('hours', sa.Float(), nullable=False),
    sa.Column('planned_output', sa.Float(), nullable=True),
    sa.Column('actual_output', sa.Float(), nullable=True),
    sa.Column('applied_at', UtcDateTime(), nullable=True),
    sa.Column('approved_at', UtcDateTime(), nullable=True),
    sa.Column('suspensions', sa.Integer(), nullable=False),
    sa.Column('suspension_causes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=True),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('updated_at', UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ref')
    )
    with op.batch_alter_table('hub_work_records', schema=None) as batch_op:
        batch_op.create_index('ix_hub_work_area_started', ['area', 'started_at'], unique=False)
        batch_op.create_index('ix_hub_work_source_started', ['source', 'started_at'], unique=False)
        batch_op.create_index('ix_hub_work_started', ['started_at'], unique=False)

    op.create_table('duties',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('list_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('tasks', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['list_id'], ['duty_lists.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('list_id', 'code', name='uq_duty_code')
    )
    op.create_table('hub_focus_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('analysis', sa.String(length=32), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('target_kind', sa.String(length=16), nullable=False),
    sa.Column('target', sa.String(length=64), nullable=False),
    sa.Column('area', sa.String(length=64), nullable=True),
    sa.Column('department', sa.String(length=64), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('evidence', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['analysis_runs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('analysis', 'period', 'target_kind', 'target', name='uq_hub_focus')
    )
    with op.batch_alter_table('hub_focus_items', schema=None) as batch_op:
        batch_op.create_index('ix_hub_focus_status_area', ['status', 'area'], unique=False)

    op.create_table('hub_recommendations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('analysis', sa.String(length=32), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('target_kind', sa.String(length=16), nullable=False),
    sa.Column('target', sa.String(length=64), nullable=False),
    sa.Column('department', sa.String(length=64), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('evidence', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('instance_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['analysis_runs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('analysis', 'period', 'kind', 'target', name='uq_hub_recommendation')
    )
    with op.batch_alter_table('hub_recommendations', schema=None) as batch_op:
        batch_op.create_index('ix_hub_recommendation_dept', ['department', 'status'], unique=False)



def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('hub_recommendations', schema=None) as batch_op:
        batch_op.drop_index('ix_hub_recommendation_dept')

    op.drop_table('hub_recommendations')
    with op.batch_alter_table('hub_focus_items', schema=None) as batch_op:
        batch_op.drop_index('ix_hub_focus_status_area')

    op.drop_table('hub_focus_items')
    op.drop_table('duties')
    with op.batch_alter_table('hub_work_records', schema=None) as batch_op:
        batch_op.drop_index('ix_hub_work_started')
        batch_op.drop_index('ix_hub_work_source_started')
        batch_op.drop_index('ix_hub_work_area_started')

    op.drop_table('hub_work_records')
    with op.batch_alter_table('hub_violations', schema=None) as batch_op:
        batch_op.drop_index('ix_hub_violation_at')
        batch_op.drop_index('ix_hub_violation_area_at')

    op.drop_table('hub_violations')
    with op.batch_alter_table('hub_trainings', schema=None) as batch_op:
        batch_op.drop_index('ix_hub_training_expiry')

    op.drop_table('hub_trainings')
    with op.batch_alter_table('hub_stops', schema=None) as batch_op:
        batch_op.drop_index('ix_hub_stop_started')

    op.drop_table('hub_stops')
    op.drop_table('hub_risk_points')
    with op.batch_alter_table('hub_records', schema=None) as batch_op:
        batch_op.drop_index('ix_hub_records_kind')

    op.drop_table('hub_records')
    with op.batch_alter_table('hub_people', schema=None) as batch_op:
        batch_op.drop_index('ix_hub_people_username')
        batch_op.drop_index('ix_hub_people_department')

    op.drop_table('hub_people')
    with op.batch_alter_table('hub_material_flows', schema=None) as batch_op:
        batch_op.drop_index('ix_hub_material_at')

    op.drop_table('hub_material_flows')
    with op.batch_alter_table('hub_inspections', schema=None) as batch_op:
        batch_op.drop_index('ix_hub_inspection_at')

    op.drop_table('hub_inspections')
    with op.batch_alter_table('hub_hazards', schema=None) as batch_op:
        batch_op.drop_index('ix_hub_hazard_found')
        batch_op.drop_index('ix_hub_hazard_equipment')
        batch_op.drop_index('ix_hub_hazard_deadline')

    op.drop_table('hub_hazards')
    with op.batch_alter_table('hub_escalations', schema=None) as batch_op:
        batch_op.drop_index('ix_hub_escalation_received')

    op.drop_table('hub_escalations')
    with op.batch_alter_table('hub_equipment_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_hub_run_started')

    op.drop_table('hub_equipment_runs')
    with op.batch_alter_table('hub_equipment', schema=None) as batch_op:
        batch_op.drop_index('ix_hub_equipment_area')

    op.drop_table('hub_equipment')
    with op.batch_alter_table('hub_alerts', schema=None) as batch_op:
        batch_op.drop_index('ix_hub_alert_raised')

    op.drop_table('hub_alerts')
    with op.batch_alter_table('duty_lists', schema=None) as batch_op:
        batch_op.drop_index('ix_duty_list_current')

    op.drop_table('duty_lists')
    with op.batch_alter_table('analysis_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_analysis_run_lookup')

    op.drop_table('analysis_runs')
