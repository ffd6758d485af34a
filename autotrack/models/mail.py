"""Mail in: the organization's mailboxes, and every message received, stored before anything
is done with it."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column, relationship

from autotrack.extensions import db
from autotrack.models.org import Department
from autotrack.models.types import UTCDateTime, utcnow

RawMessage = LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")


class MailSecurity(StrEnum):
    SSL = "ssl"  # implicit TLS (port 993)
    STARTTLS = "starttls"  # plain connection upgraded to TLS (port 143)
    NONE = "none"  # plain text: only for a server on the same host


class AfterImport(StrEnum):
    SEEN = "seen"  # mark the message seen, leave it in the folder
    MOVE = "move"  # move it to `move_folder`


class Mailbox(db.Model):
    """An IMAP mailbox whose mail becomes tickets and replies of `department`."""

    __tablename__ = "mailboxes"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    address: Mapped[str] = mapped_column(String(254))  # where replies go (Reply-To of our mail)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    imap_host: Mapped[str | None] = mapped_column(String(255))  # none: fed only by the pipe command
    imap_port: Mapped[int] = mapped_column(Integer, default=993)
    security: Mapped[str] = mapped_column(String(16), default=MailSecurity.SSL)
    username: Mapped[str | None] = mapped_column(String(254))
    # Encrypted with a key derived from SECRET_KEY (services/crypto.py); never shown again.
    password_encrypted: Mapped[str | None] = mapped_column(Text)
    folder: Mapped[str] = mapped_column(String(255), default="INBOX")
    after_import: Mapped[str] = mapped_column(String(8), default=AfterImport.SEEN)
    move_folder: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_fetch_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    # The authserv-ids (RFC 8601) of our own receiving mail servers, space-separated: only their
    # Authentication-Results headers are believed (anyone can write one). None: none is, and
    # mail from a staff address is held for the org admin.
    trusted_authserv_ids: Mapped[str | None] = mapped_column(String(255))

    department: Mapped[Department] = relationship()

    @property
    def trusted_servers(self):
        """The trusted authserv-ids, lower-case."""
        return frozenset((self.trusted_authserv_ids or "").lower().replace(",", " ").split())

    def __str__(self):
        return f"{self.name} <{self.address}>"


class InboundStatus(StrEnum):
    RECEIVED = "received"  # stored, not processed yet (or its processing did not commit)
    PROCESSED = "processed"  # made a ticket or a comment
    IGNORED = "ignored"  # automatic mail (auto-reply, bounce, list): never answered
    REJECTED = "rejected"  # unknown sender: answered once, nothing created
    HELD = "held"  # the sender could not be verified (a staff address, or a failed check): the
    # org admin releases it as the sender or discards it; nothing created, never answered
    DISCARDED = "discarded"  # a held message the org admin threw away
    FAILED = "failed"  # could not be parsed or processed: kept with its error, can be re-processed


class InboundMessage(db.Model):
    """One received message. Its key (per organization) is what makes "once" hold: a re-fetch,
    a crash before the mailbox was updated, or two fetchers store it once and process it once."""

    __tablename__ = "inbound_messages"
    __table_args__ = (
        UniqueConstraint("org_id", "message_key"),
        Index("ix_inbound_messages_status", "status", "id"),  # what is left to process
        Index("ix_inbound_messages_org", "org_id", "id"),  # the console's log, newest first
        Index("ix_inbound_messages_message_id", "org_id", "message_id"),  # replies find their ticket
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    mailbox_id: Mapped[int | None] = mapped_column(ForeignKey("mailboxes.id"))
    # sha256 of the Message-ID, or of the headers and body for a message without one.
    message_key: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str | None] = mapped_column(String(255))
    sender: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str | None] = mapped_column(String(255))
    raw: Mapped[bytes] = mapped_column(RawMessage)
    status: Mapped[str] = mapped_column(String(16), default=InboundStatus.RECEIVED)
    error: Mapped[str | None] = mapped_column(Text)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The org admin who released a held message: it is then processed as from its sender.
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    mailbox: Mapped[Mailbox | None] = relationship()
    ticket: Mapped["Ticket | None"] = relationship()  # noqa: F821
