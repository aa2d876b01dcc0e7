"""Response tables: plan actions (one row per warning × plan step, which is what makes the
executor idempotent), their approvals, incidents with their timeline links, reporting clocks
and reports. Times are canonical ISO text from the database clock (they sort as they compare)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fenghuo.control.row_scope import jurisdiction_column
from fenghuo.platform.db import Base


class PlanActionRow(Base):
    """One plan step for one warning. The id is derived from (warning, plan, trigger, action),
    so a restarted executor finds the row it wrote and neither repeats nor skips the step."""

    __tablename__ = "response_actions"
    # keyset pages in the listing's order (issue 19, 0018_fleet_lists)
    __table_args__ = (Index("ix_response_actions_created_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    warning_id: Mapped[str] = mapped_column(String(64), index=True)
    service_id: Mapped[str] = mapped_column(String(64), index=True)
    plan_id: Mapped[str] = mapped_column(String(64))
    plan_version: Mapped[str] = mapped_column(String(32))
    trigger_id: Mapped[str] = mapped_column(String(64))
    action_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    owner: Mapped[str] = mapped_column(String(256))
    # done | awaiting_approval | not_applicable | failed | cancelled
    status: Mapped[str] = mapped_column(String(24), index=True)
    approvals_needed: Mapped[int] = mapped_column(Integer, default=0)
    approval_role: Mapped[str | None] = mapped_column(String(16), nullable=True)
    command_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    incident_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    detail: Mapped[str] = mapped_column(Text, default="")
    due_at: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[str] = mapped_column(String(32))
    done_at: Mapped[str | None] = mapped_column(String(32), nullable=True)


class PlanActionApproval(Base):
    __tablename__ = "response_action_approvals"
    __table_args__ = (UniqueConstraint("action_id", "approver"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    action_id: Mapped[str] = mapped_column(ForeignKey("response_actions.id"))
    approver: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    at: Mapped[str] = mapped_column(String(32))


class Incident(Base):
    __tablename__ = "response_incidents"
    # keyset pages in the listing's order (issue 19, 0018_fleet_lists)
    __table_args__ = (Index("ix_response_incidents_opened_id", "opened_at", "id"),
                      Index("ix_response_incidents_service_opened", "service_id", "opened_at", "id"),
                      Index("ix_response_incidents_status_opened", "status", "opened_at", "id"),
                      # a regulator's page: its subtree's nodes, each in time order (0020_listing_paths)
                      Index("ix_response_incidents_jurisdiction_opened", "jurisdiction_id", "opened_at", "id"))

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    service_id: Mapped[str] = mapped_column(String(64))
    provider_id: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(Text)
    grade: Mapped[str] = mapped_column(String(4))  # IV | III | II | I
    grade_inputs: Mapped[dict[str, Any]] = mapped_column(JSON)  # what the grade was decided from
    flags: Mapped[list[str]] = mapped_column(JSON)  # e.g. death, critical_infrastructure (EU Art.73)
    status: Mapped[str] = mapped_column(String(16))  # open | ended
    opened_by: Mapped[str] = mapped_column(String(256))
    source: Mapped[str] = mapped_column(String(16))  # plan | operator | regulator
    detected_at: Mapped[str] = mapped_column(String(32))
    opened_at: Mapped[str] = mapped_column(String(32))
    profile: Mapped[str] = mapped_column(String(64))
    profile_version: Mapped[str] = mapped_column(String(32))
    ended_at: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # The service's registry record and grade when the incident was opened (issue 14): reports
    # print these, not whatever the registration says later.
    service_snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    jurisdiction_id: Mapped[str | None] = jurisdiction_column()  # the service's (control.row_scope)


class IncidentLink(Base):
    """Everything linked to an incident by id: warnings, commands, plan actions, approvals,
    reports, remediation, verification, orders. The timeline is these rows in time order."""

    __tablename__ = "response_incident_links"
    __table_args__ = (UniqueConstraint("incident_id", "kind", "ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("response_incidents.id"))
    kind: Mapped[str] = mapped_column(String(24))
    ref: Mapped[str] = mapped_column(String(80))
    at: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")


class ReportClock(Base):
    __tablename__ = "response_clocks"
    __table_args__ = (UniqueConstraint("incident_id", "report_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("response_incidents.id"))
    report_kind: Mapped[str] = mapped_column(String(16))  # initial | summary
    started_at: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[str] = mapped_column(String(32), index=True)
    rule: Mapped[str] = mapped_column(Text)  # which profile clause set it, in words
    profile: Mapped[str] = mapped_column(String(64))
    profile_version: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), index=True)  # running | met | breached | met_late
    met_at: Mapped[str | None] = mapped_column(String(32), nullable=True)
    breached_at: Mapped[str | None] = mapped_column(String(32), nullable=True)
    warning_id: Mapped[str | None] = mapped_column(String(40), nullable=True)


class Report(Base):
    __tablename__ = "response_reports"
    __table_args__ = (UniqueConstraint("incident_id", "kind", "number"),)

    id: Mapped[str] = mapped_column(String(48), primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("response_incidents.id"))
    kind: Mapped[str] = mapped_column(String(16))  # initial | update | summary
    number: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    sha256: Mapped[str] = mapped_column(String(64))
    files: Mapped[dict[str, str]] = mapped_column(JSON)
    complete: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[str] = mapped_column(String(32))
    submitted_by: Mapped[str | None] = mapped_column(String(256), nullable=True)
    submitted_at: Mapped[str | None] = mapped_column(String(32), nullable=True)
    submitted_to: Mapped[str | None] = mapped_column(Text, nullable=True)


class ComplaintTicket(Base):
    """A complaint or report from a user (投诉举报, CN-TC-17 / GENAI Art.15 / DS Art.12): due the
    provider's published handling time limit after it was received; handled with a result, and
    the person told (feedback). An open ticket past its due time raises a warning."""

    __tablename__ = "response_complaints"
    # keyset pages in the listing's order (issue 19, 0018_fleet_lists)
    __table_args__ = (Index("ix_response_complaints_received_id", "received_at", "id"),
                      Index("ix_response_complaints_service_received", "service_id", "received_at", "id"),
                      Index("ix_response_complaints_status_received", "status", "received_at", "id"),
                      # a regulator's page: its subtree's nodes, each in time order (0020_listing_paths)
                      Index("ix_response_complaints_jurisdiction_received", "jurisdiction_id", "received_at", "id"))

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    service_id: Mapped[str] = mapped_column(String(64))
    provider_id: Mapped[str] = mapped_column(String(64), index=True)
    category: Mapped[str] = mapped_column(String(24))  # complaint | report | ip | misinformation | personal_information
    channel: Mapped[str] = mapped_column(String(16))  # phone | email | in_app | sms | web | letter | regulator
    content: Mapped[str] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(Text, nullable=True)
    received_at: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)  # None: no limit published
    handling_limit: Mapped[str | None] = mapped_column(String(16), nullable=True)  # the provider's limit it was due under
    status: Mapped[str] = mapped_column(String(16))  # open | handled | closed
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(256))
    handled_at: Mapped[str | None] = mapped_column(String(32), nullable=True)
    handled_by: Mapped[str | None] = mapped_column(String(256), nullable=True)
    result: Mapped[str | None] = mapped_column(Text, nullable=True)
    feedback_at: Mapped[str | None] = mapped_column(String(32), nullable=True)
    feedback: Mapped[str | None] = mapped_column(Text, nullable=True)
    warning_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    jurisdiction_id: Mapped[str | None] = jurisdiction_column()  # the service's (control.row_scope)


class IncidentDuty(Base):
    """A duty an incident's flags add beside the regulator's report (issue 18): report to the
    police (CN-IR-06, suspected crime), notify the individuals whose personal information leaked
    (CN-EP-05, PIPL Art.57), report a vulnerability within 24 hours (CN-EP-06). One per kind."""

    __tablename__ = "response_duties"
    __table_args__ = (UniqueConstraint("incident_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("response_incidents.id"))
    kind: Mapped[str] = mapped_column(String(32))  # police_report | notify_individuals | vulnerability_report
    basis: Mapped[str] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)  # None: "promptly", no hours set
    status: Mapped[str] = mapped_column(String(16), index=True)  # open | breached | done | done_late
    done_at: Mapped[str | None] = mapped_column(String(32), nullable=True)
    done_by: Mapped[str | None] = mapped_column(String(256), nullable=True)
    content: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    warning_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
