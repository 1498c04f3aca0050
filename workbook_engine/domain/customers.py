"""Centers, groups and clients, with everything attached to a client."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workbook_engine.domain.base import Base, CreatedAtMixin, enum_column, utcnow
from workbook_engine.domain.labels import center_spellings, group_spellings
from workbook_engine.domain.enums import (
    ClientStatus,
    CustomFieldType,
    GroupStatus,
    LegalForm,
)

if TYPE_CHECKING:
    from workbook_engine.domain.calendar import MeetingRule
    from workbook_engine.domain.org import CodeValue, Office, Staff


class MeetingCalendarMixin:
    """A meeting calendar: weekly / every N weeks, or monthly on a weekday, from a date."""

    meeting_start_date: Mapped[dt.date | None]
    meeting_frequency: Mapped[str | None] = mapped_column(String(10))  # weekly | monthly
    meeting_interval: Mapped[int] = mapped_column(default=1)
    meeting_weekday: Mapped[int | None]  # 0 = Monday
    meeting_week_of_month: Mapped[int | None]  # 1..4, -1 = last (monthly only)

    @property
    def meeting_rule(self) -> MeetingRule | None:
        """The calendar as a :class:`MeetingRule`, or None when no meetings are set."""
        from workbook_engine.domain.calendar import Frequency, MeetingRule

        if self.meeting_start_date is None or self.meeting_frequency is None:
            return None
        return MeetingRule(
            start_date=self.meeting_start_date,
            frequency=Frequency(self.meeting_frequency),
            interval=self.meeting_interval,
            weekday=self.meeting_weekday,
            week_of_month=self.meeting_week_of_month,
        )


class Center(CreatedAtMixin, MeetingCalendarMixin, Base):
    """A village-level meeting of several groups, run by one loan officer."""

    __tablename__ = "centers"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    name: Mapped[str] = mapped_column(String(100))
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    status: Mapped[GroupStatus] = enum_column(GroupStatus, default=GroupStatus.ACTIVE)
    activation_date: Mapped[dt.date | None]

    office: Mapped[Office] = relationship()
    staff: Mapped[Staff | None] = relationship()
    groups: Mapped[list[Group]] = relationship(back_populates="center", order_by="Group.id")

    @property
    def spellings(self) -> tuple[str, ...]:
        """Every label a list may give the center (:mod:`workbook_engine.domain.labels`)."""
        return center_spellings(self.name, self.office.name, self.id)


class Group(CreatedAtMixin, MeetingCalendarMixin, Base):
    """5-30 clients who guarantee each other; meets with its center, or alone."""

    __tablename__ = "client_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    center_id: Mapped[int | None] = mapped_column(ForeignKey("centers.id"))
    name: Mapped[str] = mapped_column(String(100))
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    status: Mapped[GroupStatus] = enum_column(GroupStatus, default=GroupStatus.ACTIVE)
    activation_date: Mapped[dt.date | None]

    office: Mapped[Office] = relationship()
    staff: Mapped[Staff | None] = relationship()
    center: Mapped[Center | None] = relationship(back_populates="groups")
    memberships: Mapped[list[GroupMembership]] = relationship(
        primaryjoin="and_(Group.id == GroupMembership.group_id, "
                    "GroupMembership.left_on.is_(None))", viewonly=True)
    """The current memberships (not those a client left)."""

    @property
    def label(self) -> str:
        """How lists show the group: "Umoja (Kilimani)" with its center, so two groups of
        the same name in one office are told apart."""
        return f"{self.name} ({self.center.name})" if self.center is not None else self.name

    @property
    def spellings(self) -> tuple[str, ...]:
        """Every label a list may give the group (:mod:`workbook_engine.domain.labels`)."""
        return group_spellings(self.name, self.center.name if self.center else None,
                               self.office.name, self.id)

    @property
    def effective_meeting_rule(self) -> MeetingRule | None:
        """The center's calendar when the group belongs to a center, else its own."""
        if self.center is not None:
            return self.center.meeting_rule
        return self.meeting_rule


class Client(CreatedAtMixin, Base):
    """A client: a person or an entity, with the whole lifecycle of the Manage Clients page."""

    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    legal_form: Mapped[LegalForm] = enum_column(LegalForm, default=LegalForm.PERSON)
    status: Mapped[ClientStatus] = enum_column(ClientStatus, default=ClientStatus.PENDING)
    # person
    first_name: Mapped[str | None] = mapped_column(String(50))
    middle_name: Mapped[str | None] = mapped_column(String(50))
    last_name: Mapped[str | None] = mapped_column(String(50))
    date_of_birth: Mapped[dt.date | None]
    gender_id: Mapped[int | None] = mapped_column(ForeignKey("code_values.id"))
    is_staff: Mapped[bool] = mapped_column(default=False)
    # entity
    full_name: Mapped[str | None] = mapped_column(String(160))
    incorporation_date: Mapped[dt.date | None]
    incorporation_valid_till: Mapped[dt.date | None]
    incorporation_number: Mapped[str | None] = mapped_column(String(100))
    constitution_id: Mapped[int | None] = mapped_column(ForeignKey("code_values.id"))
    main_business_line_id: Mapped[int | None] = mapped_column(ForeignKey("code_values.id"))
    remarks: Mapped[str | None] = mapped_column(String(500))
    # both
    mobile_no: Mapped[str | None] = mapped_column(String(30), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    client_type_id: Mapped[int | None] = mapped_column(ForeignKey("code_values.id"))
    client_classification_id: Mapped[int | None] = mapped_column(ForeignKey("code_values.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    # lifecycle
    submitted_on: Mapped[dt.date]
    activation_date: Mapped[dt.date | None]
    closure_date: Mapped[dt.date | None]
    closure_reason_id: Mapped[int | None] = mapped_column(ForeignKey("code_values.id"))
    reactivation_date: Mapped[dt.date | None]
    rejection_date: Mapped[dt.date | None]
    rejection_reason_id: Mapped[int | None] = mapped_column(ForeignKey("code_values.id"))
    withdrawal_date: Mapped[dt.date | None]
    withdrawal_reason_id: Mapped[int | None] = mapped_column(ForeignKey("code_values.id"))
    transfer_to_office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"))
    transfer_proposed_on: Mapped[dt.date | None]
    status_before_hold: Mapped[str | None] = mapped_column(String(32))

    office: Mapped[Office] = relationship(foreign_keys=[office_id])
    transfer_to_office: Mapped[Office | None] = relationship(foreign_keys=[transfer_to_office_id])
    staff: Mapped[Staff | None] = relationship()
    gender: Mapped[CodeValue | None] = relationship(foreign_keys=[gender_id])
    client_type: Mapped[CodeValue | None] = relationship(foreign_keys=[client_type_id])
    client_classification: Mapped[CodeValue | None] = relationship(
        foreign_keys=[client_classification_id])
    constitution: Mapped[CodeValue | None] = relationship(foreign_keys=[constitution_id])
    main_business_line: Mapped[CodeValue | None] = relationship(
        foreign_keys=[main_business_line_id])
    closure_reason: Mapped[CodeValue | None] = relationship(foreign_keys=[closure_reason_id])
    memberships: Mapped[list[GroupMembership]] = relationship(
        primaryjoin="and_(Client.id == GroupMembership.client_id, "
                    "GroupMembership.left_on.is_(None))", viewonly=True)
    """The groups the client is a member of now (not those it left)."""
    family_members: Mapped[list[FamilyMember]] = relationship(
        back_populates="client", cascade="all, delete-orphan")
    addresses: Mapped[list[Address]] = relationship(
        back_populates="client", cascade="all, delete-orphan")
    documents: Mapped[list[Document]] = relationship(
        back_populates="client", cascade="all, delete-orphan")
    status_history: Mapped[list[ClientStatusChange]] = relationship(
        back_populates="client", order_by="ClientStatusChange.id")

    @property
    def display_name(self) -> str:
        """The full name: first, middle and last for a person; the name for an entity."""
        if self.legal_form == LegalForm.ENTITY:
            return self.full_name or ""
        return " ".join(p for p in (self.first_name, self.middle_name, self.last_name) if p)

    @property
    def sheet_name(self) -> str:
        """The name on a collection sheet: first and last name only (the seed's rule)."""
        if self.legal_form == LegalForm.ENTITY:
            return self.full_name or ""
        return " ".join(p for p in (self.first_name, self.last_name) if p)


class GroupMembership(Base):
    """A client's membership of a group, from ``joined_on``; a member who left (a transfer
    to another office) keeps the row with ``left_on``, so what it paid into the group's
    savings while a member stays its own."""

    __tablename__ = "group_memberships"
    __table_args__ = (UniqueConstraint("group_id", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("client_groups.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    joined_on: Mapped[dt.date | None]
    left_on: Mapped[dt.date | None]

    group: Mapped[Group] = relationship()
    client: Mapped[Client] = relationship()


class ClientStatusChange(Base):
    """One step of a client's lifecycle, for the status history."""

    __tablename__ = "client_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    on_date: Mapped[dt.date]
    reason_id: Mapped[int | None] = mapped_column(ForeignKey("code_values.id"))
    note: Mapped[str | None] = mapped_column(String(500))
    by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    client: Mapped[Client] = relationship(back_populates="status_history")


class FamilyMember(Base):
    """A member of a client's family; one may be the contact when the client cannot be reached."""

    __tablename__ = "family_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    first_name: Mapped[str] = mapped_column(String(50))
    middle_name: Mapped[str | None] = mapped_column(String(50))
    last_name: Mapped[str | None] = mapped_column(String(50))
    relationship_id: Mapped[int | None] = mapped_column(ForeignKey("code_values.id"))
    gender_id: Mapped[int | None] = mapped_column(ForeignKey("code_values.id"))
    marital_status_id: Mapped[int | None] = mapped_column(ForeignKey("code_values.id"))
    profession_id: Mapped[int | None] = mapped_column(ForeignKey("code_values.id"))
    date_of_birth: Mapped[dt.date | None]
    age: Mapped[int | None]
    is_dependent: Mapped[bool] = mapped_column(default=False)
    mobile_no: Mapped[str | None] = mapped_column(String(30))
    is_contact: Mapped[bool] = mapped_column(default=False)

    client: Mapped[Client] = relationship(back_populates="family_members")


class Address(Base):
    """A client's address."""

    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    address_type_id: Mapped[int | None] = mapped_column(ForeignKey("code_values.id"))
    street: Mapped[str | None] = mapped_column(String(200))
    line_1: Mapped[str | None] = mapped_column(String(200))
    line_2: Mapped[str | None] = mapped_column(String(200))
    line_3: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    state_province: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str | None] = mapped_column(String(100))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(default=True)

    client: Mapped[Client] = relationship(back_populates="addresses")


class Document(Base):
    """A document's metadata; its bytes live on disk, content-addressed by SHA-256."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(500))
    file_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    uploaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))

    client: Mapped[Client] = relationship(back_populates="documents")


class CustomField(Base):
    """An additional client detail an MFI defines for itself."""

    __tablename__ = "custom_fields"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    label: Mapped[str] = mapped_column(String(100))
    data_type: Mapped[CustomFieldType] = enum_column(CustomFieldType)
    code_id: Mapped[int | None] = mapped_column(ForeignKey("codes.id"))
    mandatory: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)


class CustomFieldValue(Base):
    """A client's value of an additional detail, stored as text in a canonical form."""

    __tablename__ = "custom_field_values"
    __table_args__ = (UniqueConstraint("client_id", "field_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    field_id: Mapped[int] = mapped_column(ForeignKey("custom_fields.id"))
    value: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[dict | None] = mapped_column(JSON)
