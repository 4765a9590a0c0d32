"""The analytics facts of each conversation (issue 13: the dashboards aggregate in SQL): what its
latest assessment contributes to the figures (`anfu.analytics.AssessmentFacts`), written in the
same transaction as the assessment, so the boards group and sum rows instead of reading every
assessment's JSON. Same `Base` as `tables.py`; created by migration `0007_routing`."""

from __future__ import annotations

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..glossary import EMOTIONS
from .tables import Base

EMOTION_COLUMNS: dict[str, str] = {label: f"emotion_{label}" for label in EMOTIONS}


class ConversationFactsRow(Base):
    __tablename__ = "conversation_facts"

    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"),
                                                 primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    peak: Mapped[int | None] = mapped_column(Integer)
    end_intensity: Mapped[int | None] = mapped_column(Integer)
    calmed: Mapped[bool | None] = mapped_column(Boolean)
    escalation_level: Mapped[int | None] = mapped_column(Integer)
    cause: Mapped[str | None] = mapped_column(String(32))
    valence: Mapped[float | None] = mapped_column(Float)
    quality_score: Mapped[int | None] = mapped_column(Integer)
    # agent turns with a 服务忌语 violation (the review queue's signal; migration 0009_page_indexes)
    violations: Mapped[int | None] = mapped_column(Integer)
    # customer turns per emotion
    emotion_neutral: Mapped[int] = mapped_column(Integer, default=0)  # (columns fixed by migration 0007_routing)
    emotion_satisfied: Mapped[int] = mapped_column(Integer, default=0)
    emotion_anxious: Mapped[int] = mapped_column(Integer, default=0)
    emotion_doubtful: Mapped[int] = mapped_column(Integer, default=0)
    emotion_disappointed: Mapped[int] = mapped_column(Integer, default=0)
    emotion_dissatisfied: Mapped[int] = mapped_column(Integer, default=0)
    emotion_angry: Mapped[int] = mapped_column(Integer, default=0)


assert set(EMOTION_COLUMNS.values()) <= set(ConversationFactsRow.__table__.columns.keys()), \
    "every emotion of the glossary needs its column in conversation_facts"


class TurnFactsRow(Base):
    """How one customer message read (emotion, intensity, abuse): the reading of the latest stored
    assessment that covers it, ordered by (upto_seq, assessment id). Written with each assessment,
    so the wellbeing load sums angry and abusive minutes in SQL instead of reading every
    assessment's JSON. Created by migration `0009_page_indexes`."""

    __tablename__ = "turn_facts"

    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"),
                                                 primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    emotion: Mapped[str | None] = mapped_column(String(32))
    intensity: Mapped[int] = mapped_column(Integer, default=0)
    abusive: Mapped[bool] = mapped_column(Boolean, default=False)
    # the assessment the reading comes from: a later one (by upto_seq, then id) replaces it
    upto_seq: Mapped[int] = mapped_column(Integer)
    assessment_id: Mapped[int] = mapped_column(Integer)
