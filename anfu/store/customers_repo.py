"""Customers: matching a customer across channels, their timeline, and deletion requests (the
`CustomersMixin` part of `anfu.store.Store`)."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import InputError, NotFoundError, StoreError
from ..pii import mask_identity
from . import access
from .access import Principal
from .accounts import StoreBase
from .care_tables import TrainingCaseRow
from .integration_tables import WebhookDeliveryRow
from .records import Customer, DeletionReport, MessageRecord, Page, TimelineItem, from_row
from .search_repo import forget as search_forget, index_customer, purge as search_purge
from .tables import AssessmentRow, AuditRow, ConversationRow, CustomerRow, EventRow, MessageRow, TenantRow
from .workflow_tables import FollowUpRow, LedgerRow, TicketRow

MAX_PAGE_SIZE = 200


def _no_nul(value: Any) -> Any:
    """PostgreSQL text cannot hold U+0000: it becomes U+FFFD (same length) on every engine."""
    return value.replace("\x00", "\ufffd") if isinstance(value, str) else value


_PHONE_RUN = re.compile(r"\+?[0-9][0-9 \-().]*[0-9]")
PHONE_MAX_DIGITS = 20  # longer than any phone number, well inside the column (customers.phone, 32)


def normalize_phone(phone: str | None) -> str | None:
    """ASCII digits only, without the +86 / 0086 country prefix (for matching a customer): digits
    typed full width with a Chinese IME ("１３９ １２３４ ５６７８") are the same number."""
    if not phone:
        return None
    text = unicodedata.normalize("NFKC", phone)
    # a field listing several numbers ("13912345678 / 010-88886666") names the customer by its first
    # (an extension, "分机8001", is no number of its own)
    runs = [re.sub(r"[^0-9]", "", m.group(0)) for m in _PHONE_RUN.finditer(text)]
    digits = next((run for run in runs if len(run) >= 7), re.sub(r"[^0-9]", "", text))[:PHONE_MAX_DIGITS]
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits or None


def normalize_email(email: str | None) -> str | None:
    return email.strip().lower() or None if email else None


def _page_args(page: int, page_size: int) -> tuple[int, int]:
    if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InputError("AF505", f"page={page}, page_size={page_size} (page ≥ 1, 1 ≤ page_size ≤ "
                                  f"{MAX_PAGE_SIZE})", kind="pagination")
    return page, page_size



class CustomersMixin(StoreBase):
    # customers ----------------------------------------------------------------------------
    def upsert_customer(self, tenant_id: int, *, external_ref: str | None = None, phone: str | None = None,
                        email: str | None = None, display_name: str | None = None,
                        by: Principal | None = None) -> tuple[Customer, bool]:
        """Find the customer by external ref, then phone, then e-mail; create when none matches.

        Fields the match lacks are filled in, so a customer who called (phone) and later wrote
        an e-mail ends up as one customer with one timeline. Returns (customer, created).

        With `by`, only customers that principal may already see are matched and changed: an
        agent naming another agent's customer (its external ref or phone) gets a customer of
        their own, and learns and changes nothing of the other one.
        Phone and e-mail are matched on keyed digests; under ANFU_STORE_MASKED_TEXT the
        stored values (and the display name) are masked.
        """
        for attempt in range(2):
            try:
                with self._write() as s:
                    self._get(s, TenantRow, tenant_id, "tenant")
                    row, created = self._upsert_customer_row(s, tenant_id, external_ref=external_ref, phone=phone,
                                                             email=email, display_name=display_name, by=by)
                    return from_row(Customer, row), created
            except IntegrityError:
                if attempt:  # a concurrent insert won twice: a real conflict
                    raise StoreError("AF504", external_ref, kind="customer") from None
        raise AssertionError("unreachable")

    def _customer_keys(self, external_ref: str | None, phone: str | None,
                       email: str | None) -> tuple[str | None, str | None, str | None, str | None, str | None]:
        """What a customer is matched on: (reference, phone, e-mail, phone digest, e-mail digest),
        normalised (an empty or blank reference is no reference: stored, it would hold "" for one
        customer)."""
        ref = (_no_nul(external_ref) or "").strip() or None
        phone, email = normalize_phone(phone), normalize_email(_no_nul(email))
        return ref, phone, email, self.pii_digest(phone), self.pii_digest(email)

    def _names(self, row: CustomerRow | None, *, external_ref: str | None = None, phone: str | None = None,
               email: str | None = None, display_name: str | None = None) -> bool:
        """Whether these hints (keyword arguments of `upsert_customer`) name customer `row`: its
        reference, phone or e-mail (matched on the keyed digests, as `upsert_customer` matches)."""
        if row is None:
            return False
        ref, _, _, phone_digest, email_digest = self._customer_keys(external_ref, phone, email)
        return any(mine is not None and mine == theirs for mine, theirs in (
            (ref, row.external_ref), (phone_digest, row.phone_digest), (email_digest, row.email_digest)))

    def _upsert_customer_row(self, s: Session, tenant_id: int, *, external_ref: str | None = None,
                             phone: str | None = None, email: str | None = None,
                             display_name: str | None = None,
                             by: Principal | None = None) -> tuple[CustomerRow, bool]:
        """`upsert_customer` inside the caller's transaction (the tenant already checked); a
        concurrent insert of the same customer surfaces as IntegrityError, for the caller to retry.
        A matched customer whose fields do not change is not written (nor indexed) again."""
        external_ref, phone, email, phone_digest, email_digest = self._customer_keys(external_ref, phone, email)
        display_name = _no_nul(display_name)
        if not (external_ref or phone or email):
            raise InputError("AF505", "give external_ref, phone or email", kind="customer")
        # under ANFU_STORE_MASKED_TEXT a number the free-text masker does not recognise (a landline
        # such as 01088886666) is masked as an identity field all the same
        stored_phone, stored_email = ((mask_identity("phone", phone) if phone else phone,
                                       mask_identity("email", email) if email else email)
                                      if self.mask_text else (phone, email))
        # a name is no pattern `mask` finds: under ANFU_STORE_MASKED_TEXT keep its first character
        stored_name = mask_identity("display_name", display_name or "") if self.mask_text else display_name or ""
        row = None
        ref_taken = False
        for kind, clause, value in (
                ("ref", CustomerRow.external_ref == external_ref, external_ref),
                ("phone", or_(CustomerRow.phone_digest == phone_digest, CustomerRow.phone == phone), phone),
                ("email", or_(CustomerRow.email_digest == email_digest, CustomerRow.email == email), email)):
            if value and row is None:
                stmt = select(CustomerRow).where(CustomerRow.tenant_id == tenant_id, clause)
                found = s.scalar(stmt.order_by(CustomerRow.id))
                if found is not None and by is not None:
                    # someone else's customer: not matched; its ref stays theirs
                    ref_taken = ref_taken or kind == "ref"
                    found = s.scalar(stmt.where(access.customer_clause(by)).order_by(CustomerRow.id))
                row = found
        created = row is None
        if row is None:
            row = CustomerRow(tenant_id=tenant_id, external_ref=None if ref_taken else external_ref,
                              phone=stored_phone, email=stored_email, phone_digest=phone_digest,
                              email_digest=email_digest, display_name=stored_name,
                              created_at=self.clock())
            s.add(row)
        else:
            row.external_ref = row.external_ref or (None if ref_taken else external_ref)
            if not row.phone and phone:
                row.phone, row.phone_digest = stored_phone, phone_digest
            if not row.email and email:
                row.email, row.email_digest = stored_email, email_digest
            row.phone_digest = row.phone_digest or (phone_digest if row.phone == phone else None)
            row.email_digest = row.email_digest or (email_digest if row.email == email else None)
            row.display_name = row.display_name or stored_name
            if not s.is_modified(row):
                return row, False
        s.flush()
        index_customer(s, row)
        return row, created

    def get_customer(self, customer_id: int, visible_to: Principal | None = None) -> Customer:
        with self._read() as s:
            stmt = select(CustomerRow).where(CustomerRow.id == customer_id)
            if visible_to is not None:
                stmt = stmt.where(access.customer_clause(visible_to))
            row = s.scalar(stmt)
            if row is None:
                raise NotFoundError("AF503", customer_id, kind="customer")
            return from_row(Customer, row)

    def list_customers(self, visible_to: Principal, *, page: int = 1, page_size: int = 50) -> Page[Customer]:
        page, page_size = _page_args(page, page_size)
        with self._read() as s:
            where = access.customer_clause(visible_to)
            total = s.scalar(select(func.count()).select_from(CustomerRow).where(where)) or 0
            rows = s.scalars(select(CustomerRow).where(where).order_by(CustomerRow.id)
                             .offset((page - 1) * page_size).limit(page_size))
            return Page([from_row(Customer, r) for r in rows], total, page, page_size)

    def customer_timeline(self, customer_id: int, visible_to: Principal | None = None, *,
                          page: int = 1, page_size: int = 100) -> Page[TimelineItem]:
        """Every message of the customer across channels (that `visible_to` may see), oldest first."""
        page, page_size = _page_args(page, page_size)
        self.get_customer(customer_id, visible_to)
        with self._read() as s:
            where = [ConversationRow.customer_id == customer_id]
            if visible_to is not None:
                where.append(access.conversation_clause(visible_to))
            base = select(MessageRow, ConversationRow.channel).join(
                ConversationRow, ConversationRow.id == MessageRow.conversation_id).where(*where)
            total = s.scalar(select(func.count()).select_from(base.subquery())) or 0
            rows = s.execute(base.order_by(MessageRow.sent_at, MessageRow.id)
                             .offset((page - 1) * page_size).limit(page_size)).all()
            items = [TimelineItem(from_row(MessageRecord, m), m.conversation_id, channel) for m, channel in rows]
            return Page(items, total, page, page_size)

    def delete_customer_data(self, customer_id: int, *, by: Principal) -> DeletionReport:
        """Erase a customer (个人信息删除请求): their tickets (with follow-ups and ledger
        entries), conversations, messages, assessments and events, the training cases made from
        their conversations, then the customer. The audit
        log keeps only a count of what was removed."""
        with self._write() as s:
            customer = s.get(CustomerRow, customer_id)
            if customer is None or customer.tenant_id != by.tenant_id:
                raise NotFoundError("AF503", customer_id, kind="customer")
            access.require(by, "customer.delete", tenant_id=customer.tenant_id)
            # The person, not just this record: customers that agents opened separately with the
            # same phone number or e-mail address (see upsert_customer) go too.
            same_person = [CustomerRow.id == customer_id]
            if customer.phone_digest:
                same_person.append(CustomerRow.phone_digest == customer.phone_digest)
            if customer.email_digest:
                same_person.append(CustomerRow.email_digest == customer.email_digest)
            customer_ids = list(s.scalars(select(CustomerRow.id).where(
                CustomerRow.tenant_id == customer.tenant_id, or_(*same_person))))
            conv_ids = select(ConversationRow.id).where(ConversationRow.customer_id.in_(customer_ids))
            counts = {}
            ticket_ids = select(TicketRow.id).where(TicketRow.conversation_id.in_(conv_ids))
            search_forget(s, conversation_ids=conv_ids, customer_ids=customer_ids, ticket_ids=ticket_ids)
            for row_type in (FollowUpRow, LedgerRow):
                s.execute(delete(row_type).where(row_type.ticket_id.in_(ticket_ids)))
            result = s.execute(delete(TicketRow).where(TicketRow.conversation_id.in_(conv_ids)))
            counts["tickets"] = int(result.rowcount)  # type: ignore[attr-defined]
            for name, row_type in (("events", EventRow), ("assessments", AssessmentRow),
                                   ("messages", MessageRow)):
                result = s.execute(delete(row_type).where(row_type.conversation_id.in_(conv_ids)))
                counts[name] = int(result.rowcount)  # type: ignore[attr-defined]
            # webhook deliveries about these conversations (their payloads may quote the case), and
            # training cases made from them (anonymised, but a name the anonymiser missed must not
            # outlive the erasure)
            s.execute(delete(WebhookDeliveryRow).where(WebhookDeliveryRow.conversation_id.in_(conv_ids)))
            s.execute(delete(TrainingCaseRow).where(TrainingCaseRow.source_conversation_id.in_(conv_ids)))
            result = s.execute(delete(ConversationRow).where(ConversationRow.customer_id.in_(customer_ids)))
            counts["conversations"] = int(result.rowcount)  # type: ignore[attr-defined]
            s.execute(delete(CustomerRow).where(CustomerRow.id.in_(customer_ids)))
            report = DeletionReport(customer_id=customer_id, **counts)
            s.add(AuditRow(tenant_id=by.tenant_id, actor=by.actor, action="customer.deleted",
                           target=f"customer:{customer_id}", detail=report.to_dict(), at=self.clock()))
        search_purge(self.engine)
        self._checkpoint()
        return report

    def _checkpoint(self) -> None:
        """SQLite: copy the WAL into the database and empty it, so erased text does not live on
        in the `-wal` file (deleted pages are zeroed: `secure_delete` is on, see engine.py)."""
        if self.engine.dialect.name != "sqlite":
            return
        with self.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    # conversations ------------------------------------------------------------------------
