"""Agent wellbeing (员工情绪的自我调控, 心理健康支持, 同事支持): the emotional-load index of each
agent's shift from what they actually faced, the private after-contact prompt (a short break, timed
breathing, the 第三者心态 reframing, asking a peer or the team lead), and rotation suggestions for
supervisors. The formula and its weights are the rule pack `wellbeing.yaml`.

Privacy: an agent's check-ins, self-check answers and notes are theirs alone; supervisors see team
load, rotation suggestions and requests for support, never the private parts (`anfu.store`
enforces it, `tests/wellbeing/test_privacy.py` checks it).
"""

from __future__ import annotations

from .facts import contact_facts
from .load import (ContactFacts, ContactLoad, ContactSums, CustomerMoment, Rotation, ShiftLoad, contact_loads, is_hard,
                   level_of, load_index, rotation_suggestions, shift_load, shift_of, shifts)
from .rules import WellbeingRules, load_wellbeing_rules

CHECKIN_KINDS: tuple[str, ...] = ("break", "breathing", "reframe", "peer", "lead", "dismiss")
SUPPORT_KINDS: tuple[str, ...] = ("peer", "lead")

__all__ = ["CHECKIN_KINDS", "SUPPORT_KINDS", "ContactFacts", "ContactLoad", "ContactSums", "CustomerMoment", "Rotation",
           "ShiftLoad", "WellbeingRules", "contact_facts", "contact_loads", "is_hard", "level_of", "load_index",
           "load_wellbeing_rules", "rotation_suggestions", "shift_load", "shift_of", "shifts"]
