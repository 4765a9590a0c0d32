"""anfu.persona.v2: the rules' evidence plus a learned model of the customer's words."""

from __future__ import annotations

import pickle

import pytest

from anfu.components.persona import DENSE_FEATURES, LearnedPersona, Persona, load_model, persona_inputs
from anfu.testing import check_component
from anfu.types import Assessment, Conversation


def assess(turns: list[tuple[str, str]]) -> Assessment:
    doc = Assessment.start(Conversation.from_texts(turns, id="t"))
    return doc


@pytest.fixture(scope="module")
def persona() -> LearnedPersona:
    return LearnedPersona()


def test_contract(persona: LearnedPersona) -> None:
    check_component(persona)
    assert Persona.name == "anfu.persona.v1" and LearnedPersona.name == "anfu.persona.v2"


# conversations where a 班长 names the type from the customer's first words
AT_ONCE = {
    "虚荣型": [  # banking
        ("customer", "我在你们这儿是十几年的VIP了，你们行长我都认识，办个大额转账还要我排队？"),
        ("agent", "您好，非常抱歉让您久等，我马上帮您看一下转账的情况。"),
        ("customer", "你们新来的吧？以前哪个柜员见了我不是先请我去贵宾室坐着的。"),
    ],
    "顽固型": [  # power, new billing rules
        ("customer", "我不管什么新规定，以前怎么办现在就怎么办，电费我就要去营业厅交现金。"),
        ("agent", "您好，现在营业厅也可以交现金，另外手机上缴费会更方便一些。"),
        ("customer", "不用给我介绍什么手机缴费，我用了几十年的老办法，就按原来的来。"),
    ],
    "沉默型": [  # logistics
        ("customer", "快递一周了还没到。"),
        ("agent", "您好，请问您的运单号是多少？我帮您查一下。"),
        ("customer", "嗯。"),
        ("agent", "您可以在短信里找到运单号，或者告诉我收件手机号也可以。"),
        ("customer", "138开头那个。"),
        ("agent", "查到了，包裹在中转站滞留，给您加急派送还是退回重发？"),
        ("customer", "随便。"),
    ],
}


@pytest.mark.parametrize("expected", list(AT_ONCE))
def test_a_type_named_at_once(persona: LearnedPersona, expected: str) -> None:
    result = persona(assess(AT_ONCE[expected])).persona
    assert result.type == expected, result
    assert result.evidence and result.confidence > 0
    assert result.playbook.method and result.playbook.speak and result.playbook.avoid


def test_evidence_names_the_model_and_the_rules(persona: LearnedPersona) -> None:
    result = persona(assess(AT_ONCE["虚荣型"])).persona
    text = "\n".join(result.evidence)
    assert "虚荣型" in text
    assert any(line.startswith(("模型", "规则")) for line in result.evidence)


@pytest.mark.parametrize("text", ["你好", "你好，我想问一下宽带的事。", "电费单收到了，想咨询一下。"])
def test_thin_evidence_abstains_and_says_why(persona: LearnedPersona, text: str) -> None:
    result = persona(assess([("customer", text), ("agent", "您好，请问有什么可以帮您？")])).persona
    assert result.type == "unknown"
    assert result.evidence and result.evidence[0].startswith("证据不足")


def test_agent_turns_do_not_decide(persona: LearnedPersona) -> None:
    """Only the customer's words count: a forceful agent does not make a forceful customer."""
    calm = [("customer", "你好，我想问一下宽带什么时候能修好，不着急，辛苦了。")]
    a = persona(assess(calm + [("agent", "好的，请稍等。")])).persona
    b = LearnedPersona()(assess(calm + [("agent", "少废话，你给我等着，信不信我不给你修！")])).persona
    assert a.type == b.type


def test_memo_answers_as_a_fresh_analysis(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 15: the persona is remembered by what it reads (the customer's turns, their
    positions, the upstream fields). Every live window of a chat gets exactly the fresh
    answer; an agent's reply is answered from the memo; a changed customer turn is not."""
    remembering = LearnedPersona()
    calls: list[int] = []
    infer = remembering.infer
    monkeypatch.setattr(remembering, "infer", lambda turns: (calls.append(len(turns)), infer(turns))[1])
    for turns in AT_ONCE.values():
        for end in range(1, len(turns) + 1):
            before = len(calls)
            got = remembering(assess(turns[:end])).persona
            assert got == LearnedPersona()(assess(turns[:end])).persona
            assert len(calls) == before + (turns[end - 1][0] == "customer")
    doc = assess(AT_ONCE["顽固型"])
    doc.turns[0].intensity = 4  # an upstream field changed: a new answer, not the remembered one
    before = len(calls)
    remembering(doc)
    assert len(calls) == before + 1


def test_inputs_match_the_weights() -> None:
    text, dense, clues = persona_inputs(load_model(), assess(AT_ONCE["顽固型"]).turns)
    assert len(dense) == len(DENSE_FEATURES)
    assert "以前怎么办" in text and "营业厅也可以" not in text
    assert any(c.persona == "顽固型" for c in clues)


def test_pickles(persona: LearnedPersona) -> None:
    clone = pickle.loads(pickle.dumps(persona))
    doc = assess(AT_ONCE["沉默型"])
    assert clone(doc).persona == persona(assess(AT_ONCE["沉默型"])).persona


def test_missing_weights_are_af201(tmp_path) -> None:  # noqa: ANN001
    from anfu.errors import ModelError

    with pytest.raises(ModelError) as err:
        LearnedPersona(model=str(tmp_path / "none.npz"))
    assert err.value.code == "AF201"


def test_gate_answer_is_the_one_decision_of_component_and_training() -> None:
    """`gate_answer` is what the component decides below and above the gate, and what training
    simulates out of fold when it chooses `min_typed` (one function, so the two cannot drift)."""
    from anfu.components.persona import STRONG_CUES, gate_answer
    from anfu.training.persona import _gate_decisions

    assert gate_answer(0.81, 0.8, "顽固型", 0.0, STRONG_CUES) is None  # past the gate: the type model
    assert gate_answer(0.80, 0.8, "unknown", 0.0, STRONG_CUES) is None
    assert gate_answer(0.40, 0.8, "顽固型", 3.0, STRONG_CUES) == "顽固型"  # strong cues below the gate
    assert gate_answer(0.40, 0.8, "顽固型", 2.9, STRONG_CUES) == "unknown"
    assert gate_answer(0.40, 0.8, "unknown", 9.0, STRONG_CUES) == "unknown"
    import numpy as np

    rules = [("顽固型", {"顽固型": 3.5}), ("虚荣型", {"虚荣型": 1.0}), ("unknown", {})]
    assert _gate_decisions(np.array([0.2, 0.2, 0.9]), ["好斗型", "好斗型", "随和型"], rules, 0.8) == [
        "顽固型", "unknown", "随和型"]
