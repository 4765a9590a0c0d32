"""Anfu (安抚): customer emotion management for service centres.

    import anfu
    analyzer = anfu.load()
    result = analyzer(anfu.Utterance("停电三天了还没人来修，我要打12345投诉！"))
    result.to_dict()
"""

from .errors import AnfuError
from .pipeline import Analyzer, load
from .types import Assessment, Conversation, Finding, Suggestion, Trigger, TurnAssessment, Utterance

__version__ = "0.1.0"

__all__ = [
    "AnfuError", "Analyzer", "Assessment", "Conversation", "Finding", "Suggestion", "Trigger",
    "TurnAssessment", "Utterance", "load", "__version__",
]
