"""SQLModel tables, one module per aggregate; importing this registers them all on the metadata."""

from triage.models.account import ApiToken, PasswordReset, Role, User
from triage.models.audit import AuditEvent
from triage.models.case import Case, CaseEvent, CaseReferralLink
from triage.models.directory import (
    CapacityStatus,
    DirectoryImport,
    DirectoryOrganisation,
    DirectoryService,
    OnwardConnection,
)
from triage.models.matching import MatchDecision, MatchReview
from triage.models.merge import RecordMerge
from triage.models.notification import Notification, NotificationRead
from triage.models.outbox import BatchFingerprint, IdempotencyRecord, OutboxMessage, OutboxStatus
from triage.models.person import Household, HouseholdMember, Person
from triage.models.privacy import (
    PersonChange,
    RecordRestriction,
    RestrictionUser,
    RetentionReview,
)
from triage.models.referral import Decision, Referral, ReferralPerson, ReferralStatus
from triage.models.report import ReportRefresh, ReportTally
from triage.models.web import CaseNote, FormDraft, RateLimitHit, SignInAttempt, WebSession

__all__ = [
    "ApiToken", "AuditEvent", "BatchFingerprint", "CapacityStatus", "DirectoryImport",
    "DirectoryOrganisation", "DirectoryService", "OnwardConnection", "Case", "CaseEvent",
    "CaseReferralLink",
    "Decision", "Household", "HouseholdMember",
    "IdempotencyRecord", "MatchDecision", "MatchReview", "Notification", "NotificationRead",
    "OutboxMessage", "OutboxStatus", "PasswordReset",
    "Person", "PersonChange", "RecordMerge", "RecordRestriction", "Referral", "RestrictionUser",
    "RetentionReview",
    "ReferralPerson", "ReferralStatus", "ReportRefresh", "ReportTally", "Role", "User",
    "CaseNote", "FormDraft", "RateLimitHit", "SignInAttempt", "WebSession",
]
