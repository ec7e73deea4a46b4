"""The warehouse schema as SQLAlchemy 2 typed models. The models are the schema: the Alembic
revision in warehouse/migrations/ is tested to create exactly these tables.

Money is NUMERIC(18, 2) in 万元 and rates NUMERIC(9, 4); both come back as Decimal. States are
short strings guarded by CHECK constraints rather than database enums, so a new state is a
one-line migration on either dialect.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

MONEY = Numeric(18, 2)
RATE = Numeric(9, 4)
# Completion and deviation are unbounded (a ratio target of 2 met 1,000-fold is 50,000 %);
# the wider type keeps one outlier from aborting the year-end store.
PERCENT = Numeric(12, 4)
AMOUNT = Numeric(18, 4)

# A file's name on receipts and findings is its path inside the inbox ('unit/046.xlsx'): a
# sub-folder and a name each up to the file system's 255 bytes fit.
NAME = String(1024)

ACCEPTED = "accepted"
REJECTED = "rejected"
SUPERSEDED = "superseded"
DUPLICATE = "duplicate"

# Named constraints keep SQLite batch migrations and PostgreSQL in step.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _year_fk(table: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["region_code", "year"],
        ["plan_year.region_code", "plan_year.year"],
        name=f"fk_{table}_plan_year",
    )


class Region(Base):
    """One row per region (地区), e.g. 650000 新疆维吾尔自治区."""

    __tablename__ = "region"
    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))


class PlanYear(Base):
    """One row per region per plan year, with the year's fund amounts."""

    __tablename__ = "plan_year"
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    fund_name: Mapped[str] = mapped_column(String(100))
    annual_amount: Mapped[Decimal] = mapped_column(MONEY)
    central_amount: Mapped[Decimal] = mapped_column(MONEY)
    local_amount: Mapped[Decimal] = mapped_column(MONEY)


class Direction(Base):
    """One row per region per year per direction (类别), with its budget."""

    __tablename__ = "direction"
    __table_args__ = (_year_fk("direction"),)
    region_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    budget_total: Mapped[Decimal] = mapped_column(MONEY)
    budget_carried: Mapped[Decimal] = mapped_column(MONEY)
    budget_new: Mapped[Decimal] = mapped_column(MONEY)


class Unit(Base):
    """One row per implementing unit (申报单位), across years."""

    __tablename__ = "unit"
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    unit_type: Mapped[str] = mapped_column(String(50))


class Project(Base):
    """One row per region per year per plan project (序号) of the current plan version (a project
    an amendment removed is no longer here; every version is kept in plan_project)."""

    __tablename__ = "project"
    __table_args__ = (
        ForeignKeyConstraint(
            ["region_code", "year", "category"],
            ["direction.region_code", "direction.year", "direction.name"],
            name="fk_project_direction",
        ),
    )
    region_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    no: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    unit: Mapped[str] = mapped_column(ForeignKey("unit.name"))
    category: Mapped[str] = mapped_column(String(100))
    project_type: Mapped[str] = mapped_column(String(20))
    support_mode: Mapped[str] = mapped_column(String(20))
    allocation: Mapped[Decimal] = mapped_column(MONEY)


class PlanVersion(Base):
    """One row per region per year per version of its allocation plan (资金安排计划): the first
    plan loaded is version 1; each plan.csv that differs from the current version (a 调整:
    projects added, removed, or changed) records the next. `project` holds the current
    version's projects, `plan_project` every version's."""

    __tablename__ = "plan_version"
    __table_args__ = (_year_fk("plan_version"),)
    region_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime)  # UTC
    run_id: Mapped[int | None] = mapped_column(ForeignKey("run.id"))  # the run that loaded it
    projects: Mapped[int] = mapped_column(Integer)
    allocation: Mapped[Decimal] = mapped_column(MONEY)
    added: Mapped[int] = mapped_column(Integer)
    removed: Mapped[int] = mapped_column(Integer)
    changed: Mapped[int] = mapped_column(Integer)


class PlanProject(Base):
    """One row per region per year per plan version per project, as that version states it."""

    __tablename__ = "plan_project"
    __table_args__ = (
        ForeignKeyConstraint(
            ["region_code", "year", "version"],
            ["plan_version.region_code", "plan_version.year", "plan_version.version"],
            name="fk_plan_project_plan_version",
        ),
    )
    region_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    no: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    unit: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(100))
    project_type: Mapped[str] = mapped_column(String(20))
    support_mode: Mapped[str] = mapped_column(String(20))
    allocation: Mapped[Decimal] = mapped_column(MONEY)


class Indicator(Base):
    """One row per region per year per performance indicator (三级指标): target and rule."""

    __tablename__ = "indicator"
    __table_args__ = (_year_fk("indicator"),)
    region_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    no: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    level1: Mapped[str] = mapped_column(String(50))
    level2: Mapped[str] = mapped_column(String(50))
    operator: Mapped[str] = mapped_column(String(10))
    target: Mapped[Decimal | None] = mapped_column(AMOUNT)
    target_text: Mapped[str] = mapped_column(String(100))
    unit: Mapped[str] = mapped_column(String(20))
    rule: Mapped[str] = mapped_column(String(30))
    field: Mapped[str] = mapped_column(String(50))
    denominator: Mapped[str] = mapped_column(String(50))
    condition: Mapped[str] = mapped_column(String(200))


class Run(Base):
    """One row per flow run, with the region and year it worked on, how many files it received
    and how they ended; the files themselves are its receipts."""

    __tablename__ = "run"
    __table_args__ = (
        CheckConstraint("status IN ('running', 'succeeded', 'failed')", name="status"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    flow_name: Mapped[str] = mapped_column(String(100))
    region_code: Mapped[str | None] = mapped_column(String(12))
    year: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(20))
    received: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    duplicate: Mapped[int] = mapped_column(Integer, default=0)
    superseded: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str | None] = mapped_column(Text)


class Submission(Base):
    """One row per distinct file (by SHA-256) received for a region and year.

    A file whose content is already stored is the same submission: it adds no row here, only a
    `duplicate` receipt in its run (see Receipt). Accepted files of one project and period are numbered 1, 2, ...; only
    the newest is `accepted` (at most one, by a partial unique index), earlier ones `superseded`.
    """

    __tablename__ = "submission"
    __table_args__ = (
        _year_fk("submission"),
        UniqueConstraint("region_code", "year", "sha256"),
        CheckConstraint("state IN ('accepted', 'rejected', 'superseded')", name="state"),
        CheckConstraint(
            "state = 'rejected'"
            " OR (project_no IS NOT NULL AND period IS NOT NULL AND version >= 1)",
            name="versioned",
        ),
        Index(
            "uq_submission_current",
            "region_code",
            "year",
            "project_no",
            "period",
            unique=True,
            sqlite_where=text("state = 'accepted'"),
            postgresql_where=text("state = 'accepted'"),
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_code: Mapped[str] = mapped_column(String(12))
    year: Mapped[int] = mapped_column(Integer)
    project_no: Mapped[int | None] = mapped_column(Integer)
    period: Mapped[str | None] = mapped_column(String(7))
    version: Mapped[int | None] = mapped_column(Integer)
    template_version: Mapped[str | None] = mapped_column(String(50))
    file_name: Mapped[str] = mapped_column(String(255))  # shortened when longer (load.short_name)
    sha256: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(DateTime)  # UTC
    state: Mapped[str] = mapped_column(String(12))
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id"), index=True)
    # The rules a rejection was decided under (reference data, suites, reading limits): the
    # same bytes sent again are validated again once these change (guidefund.intake.rules).
    rules_version: Mapped[str | None] = mapped_column(String(64))


class Receipt(Base):
    """One row per file received per run: its name, content hash, when it came, and the one state
    it ended in: accepted, rejected, duplicate (its bytes were stored before, or earlier in the
    same batch), or superseded (a later file of the same batch replaced it before the run ended).

    `submission_id` is the stored submission holding those bytes (for a duplicate, the earlier
    one), so the state a file's content is in *now* is a join away. load_batch always sets it;
    it may be empty so that a file whose bytes never became a submission can still be receipted.

    The receipt is also the custody journal: `file_name` is where the file was in the inbox,
    `destination` where it goes (relative to the working directory: archive/<sha256>.xlsx,
    quarantine/<path>, or for a duplicate where its bytes are already kept), and `filed_at`
    stays empty until it is there. Receipt and destination are written in the load's
    transaction, so a run killed before filing away is finished by the next one.
    """

    __tablename__ = "receipt"
    __table_args__ = (
        _year_fk("receipt"),
        UniqueConstraint("run_id", "file_name"),
        CheckConstraint(
            "state IN ('accepted', 'rejected', 'duplicate', 'superseded')", name="state"
        ),
        Index(
            "ix_receipt_unfiled",
            "region_code",
            sqlite_where=text("filed_at IS NULL"),
            postgresql_where=text("filed_at IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id"))
    region_code: Mapped[str] = mapped_column(String(12))
    year: Mapped[int] = mapped_column(Integer)
    file_name: Mapped[str] = mapped_column(NAME)
    sha256: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(DateTime)  # UTC
    state: Mapped[str] = mapped_column(String(12))
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submission.id"), index=True)
    modified_at: Mapped[datetime | None] = mapped_column(DateTime)  # the file's mtime, UTC
    destination: Mapped[str | None] = mapped_column(Text)
    filed_at: Mapped[datetime | None] = mapped_column(DateTime)  # UTC; empty = not filed yet


def _submission_pk() -> Mapped[int]:
    return mapped_column(ForeignKey("submission.id", ondelete="CASCADE"), primary_key=True)


# Columns every fact table has besides the submission's own values.
FACT_KEYS = ("submission_id", "region_code", "year")


# Region and year repeat the submission's on every fact row, so facts can be filtered and
# partitioned by region without a join; the plan_year foreign key keeps them honest.
def _region() -> Mapped[str]:
    return mapped_column(String(12))


def _year() -> Mapped[int]:
    return mapped_column(Integer)


# The three fixed fact tables below hold the 2024 template's fields as columns. Since revision
# 0004 every value is in field_value and every query reads it there; these are still written,
# as a compatibility copy for SQL written against them outside guidefund.


class FundExecution(Base):
    """One row per stored accepted submission (current or superseded): its 资金情况 figures."""

    __tablename__ = "fund_execution"
    __table_args__ = (_year_fk("fund_execution"),)
    submission_id: Mapped[int] = _submission_pk()
    region_code: Mapped[str] = _region()
    year: Mapped[int] = _year()
    allocation: Mapped[Decimal | None] = mapped_column(MONEY)
    funds_received: Mapped[Decimal | None] = mapped_column(MONEY)
    funds_spent: Mapped[Decimal | None] = mapped_column(MONEY)
    funds_on_time: Mapped[Decimal | None] = mapped_column(MONEY)
    self_raised: Mapped[Decimal | None] = mapped_column(MONEY)
    local_east_west: Mapped[Decimal | None] = mapped_column(MONEY)
    financing: Mapped[Decimal | None] = mapped_column(MONEY)


class IndicatorContribution(Base):
    """One row per stored accepted submission: what the project contributes to each indicator."""

    __tablename__ = "indicator_contribution"
    __table_args__ = (_year_fk("indicator_contribution"),)
    submission_id: Mapped[int] = _submission_pk()
    region_code: Mapped[str] = _region()
    year: Mapped[int] = _year()
    achievements: Mapped[int | None] = mapped_column(Integer)
    east_west: Mapped[bool | None] = mapped_column(Boolean)
    central_local: Mapped[bool | None] = mapped_column(Boolean)
    hightech_firms: Mapped[int | None] = mapped_column(Integer)
    sme_firms: Mapped[int | None] = mapped_column(Integer)
    contract_value: Mapped[Decimal | None] = mapped_column(MONEY)
    trained_staff: Mapped[int | None] = mapped_column(Integer)
    consulting: Mapped[int | None] = mapped_column(Integer)
    rural: Mapped[bool | None] = mapped_column(Boolean)
    brokers: Mapped[int | None] = mapped_column(Integer)
    capability: Mapped[Decimal | None] = mapped_column(RATE)
    satisfaction: Mapped[Decimal | None] = mapped_column(RATE)


class SelfEvaluation(Base):
    """One row per stored accepted submission: the unit's self-assessment and contact."""

    __tablename__ = "self_evaluation"
    __table_args__ = (_year_fk("self_evaluation"),)
    submission_id: Mapped[int] = _submission_pk()
    region_code: Mapped[str] = _region()
    year: Mapped[int] = _year()
    self_grade: Mapped[str | None] = mapped_column(String(10))
    deviation_reason: Mapped[str | None] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(50))
    filled_date: Mapped[date | None] = mapped_column(Date)


# How each kind of template_fields.csv (类型) is stored in field_value: one typed column per
# kind, the others empty. 是/否 is a count of 1 or 0, so that a sum counts the 是 answers.
VALUE_COLUMNS = {
    "money": "value_money",
    "int": "value_count",
    "yesno": "value_count",
    "pct": "value_rate",
    "date": "value_date",
    "text": "value_text",
    "grade": "value_text",
    "period": "value_text",
}
# Fields kept on the submission row itself (its keys), not as field values.
ON_SUBMISSION = ("template_version", "project_no", "period")
SUMMED_KINDS = ("money", "int", "yesno")  # a pct is averaged (weighted_mean), never summed
NUMBER_KINDS = ("money", "int", "yesno", "pct")


class FieldValue(Base):
    """One row per stored accepted submission (current or superseded) per template field
    (template_fields.csv 键) it was read with: the value in the column of its kind, its unit
    and the cell it came from. The template of the year decides which fields exist: a field
    added in a year's files is stored and aggregated without a new column or migration."""

    __tablename__ = "field_value"
    # No index besides the key: every query reaches field values from current submissions
    # (submission_id first), and a second index cost a quarter of a bulk load's time.
    __table_args__ = (_year_fk("field_value"),)
    submission_id: Mapped[int] = _submission_pk()
    field_key: Mapped[str] = mapped_column(String(50), primary_key=True)
    region_code: Mapped[str] = _region()
    year: Mapped[int] = _year()
    kind: Mapped[str] = mapped_column(String(10))
    value_money: Mapped[Decimal | None] = mapped_column(MONEY)
    value_count: Mapped[int | None] = mapped_column(Integer)
    value_rate: Mapped[Decimal | None] = mapped_column(PERCENT)
    value_text: Mapped[str | None] = mapped_column(Text)
    value_date: Mapped[date | None] = mapped_column(Date)
    unit: Mapped[str | None] = mapped_column(String(20))
    cell: Mapped[str | None] = mapped_column(String(60))  # 工作表!单元格, e.g. 资金情况!C5


class Finding(Base):
    """One row per finding per run: a problem in one cell, or in one file when cell is empty."""

    __tablename__ = "finding"
    __table_args__ = (_year_fk("finding"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id"), index=True)
    region_code: Mapped[str] = _region()
    year: Mapped[int] = _year()
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submission.id"), index=True)
    file: Mapped[str] = mapped_column(NAME)
    sheet: Mapped[str] = mapped_column(String(50))
    cell: Mapped[str] = mapped_column(String(20))
    field: Mapped[str] = mapped_column(String(50))
    label: Mapped[str] = mapped_column(String(100))
    value: Mapped[str] = mapped_column(Text)
    rule: Mapped[str] = mapped_column(String(100))
    severity: Mapped[str] = mapped_column(String(10))
    message: Mapped[str] = mapped_column(Text)


class Alert(Base):
    """One row per distinct alert (dedup_key), seen first in one run and last in another."""

    __tablename__ = "alert"
    __table_args__ = (_year_fk("alert"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_code: Mapped[str] = mapped_column(String(12))
    year: Mapped[int] = mapped_column(Integer)
    period: Mapped[str | None] = mapped_column(String(7))
    subject: Mapped[str] = mapped_column(String(300))
    rule: Mapped[str] = mapped_column(String(100))
    value: Mapped[Decimal | None] = mapped_column(AMOUNT)
    threshold: Mapped[Decimal | None] = mapped_column(AMOUNT)
    severity: Mapped[str] = mapped_column(String(10))
    message: Mapped[str] = mapped_column(Text)
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    first_run_id: Mapped[int] = mapped_column(ForeignKey("run.id"))
    last_seen_run_id: Mapped[int] = mapped_column(ForeignKey("run.id"))
    # As of which date the last run that raised it judged it; what it is about.
    as_of: Mapped[date | None] = mapped_column(Date)
    level: Mapped[str | None] = mapped_column(String(12))
    project_no: Mapped[int | None] = mapped_column(Integer)


class IndicatorResult(Base):
    """One row per run per region, year and indicator: the aggregated actual against its target."""

    __tablename__ = "indicator_result"
    __table_args__ = (
        ForeignKeyConstraint(
            ["region_code", "year", "indicator_no"],
            ["indicator.region_code", "indicator.year", "indicator.no"],
            name="fk_indicator_result_indicator",
        ),
    )
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id"), primary_key=True)
    region_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator_name: Mapped[str] = mapped_column(String(200))
    period: Mapped[str | None] = mapped_column(String(7))
    target: Mapped[Decimal | None] = mapped_column(AMOUNT)
    actual: Mapped[Decimal | None] = mapped_column(AMOUNT)
    actual_text: Mapped[str | None] = mapped_column(String(100))
    completion_pct: Mapped[Decimal | None] = mapped_column(PERCENT)
    deviation_pct: Mapped[Decimal | None] = mapped_column(PERCENT)
    needs_explanation: Mapped[bool] = mapped_column(Boolean, default=False)


PORTAL_UNIT, PORTAL_OFFICE = "unit", "office"
OTHER_UNIT = "other_unit"


class PortalLink(Base):
    """One row per link issued for the web page (guidefund links): a unit's for a year, or the
    office's. Only the SHA-256 of the token is stored; `revoked_at` ends the link at once."""

    __tablename__ = "portal_link"
    __table_args__ = (
        UniqueConstraint("token_hash"),
        CheckConstraint("kind IN ('unit', 'office')", name="kind"),
        Index("ix_portal_link_unit", "region_code", "year", "unit"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(10))
    region_code: Mapped[str] = mapped_column(String(12))
    year: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str | None] = mapped_column(String(200))  # empty for the office's link
    created_at: Mapped[datetime] = mapped_column(DateTime)  # UTC
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)  # UTC


class PortalUpload(Base):
    """One row per file a unit sent through its link: the custody record of an upload (unit,
    link, time, the name it was sent under, SHA-256), its verdict, and where its bytes are kept
    (relative to the working directory): in the inbox when it would be accepted, under
    portal/refused/ with its feedback workbook when not. The same bytes from one unit are kept
    once (`duplicate` rows point at the first)."""

    __tablename__ = "portal_upload"
    __table_args__ = (
        CheckConstraint(
            "verdict IN ('accepted', 'rejected', 'other_unit', 'duplicate')", name="verdict"
        ),
        Index("ix_portal_upload_unit", "region_code", "year", "unit"),
        Index("ix_portal_upload_sha256", "sha256"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("portal_link.id"))
    region_code: Mapped[str] = mapped_column(String(12))
    year: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(DateTime)  # UTC
    file_name: Mapped[str] = mapped_column(NAME)  # as sent; never used as a path
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    project_no: Mapped[int | None] = mapped_column(Integer)
    verdict: Mapped[str] = mapped_column(String(12))
    problems: Mapped[int] = mapped_column(Integer, default=0)
    stored_at: Mapped[str | None] = mapped_column(Text)


class UnitMail(Base):
    """One row per item a unit was told about by mail: a receipt of a nightly run
    (`item` = 'receipt:<id>') or a reminder (催报, 'remind:<period>:<date>'). A rerun sends only
    items without a row."""

    __tablename__ = "unit_mail"
    __table_args__ = (
        UniqueConstraint("region_code", "year", "unit", "item"),
        CheckConstraint("kind IN ('nightly', 'reminder')", name="kind"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    region_code: Mapped[str] = mapped_column(String(12))
    year: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(200))
    item: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(320))
    sent_at: Mapped[datetime] = mapped_column(DateTime)  # UTC
