from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from workflow_helpers import at, outage_ticket, walk_to_execution

from anfu.errors import RulePackError, WorkflowError
from anfu.rules import RULES_ROOT
from anfu.workflow.ledger import Departments, Ledger, repeated_causes, validate_departments

AGENT = "王丽(1023)"


@pytest.fixture(scope="module")
def departments() -> Departments:
    return Departments.load()


def handled(ticket_id: str, cause: str, industry: str, created: str = "2025-07-01 09:00"):
    ticket = outage_ticket(created, id=ticket_id, cause=cause, industry=industry)
    walk_to_execution(ticket, created[:11] + "09:10")
    ticket.resolve(at=at(created[:11] + "11:00"), actor=AGENT)
    return ticket


def test_causes_map_to_their_owning_department(departments) -> None:
    assert departments.for_cause("outage", "power") == "grid"
    assert departments.for_cause("outage", "telecom") == "network"
    assert departments.for_cause("billing", "telecom") == "billing"
    assert departments.for_cause("quality", "after_sales") == "design"
    assert departments.for_cause("quality") == "production"
    assert departments.for_cause("delay", "ecommerce") == "logistics"
    assert departments.display("grid") == "配电运检与抢修部门"
    assert departments.display("grid", "en") == "Grid operations and repair"


def test_four_nothing_missed_steps_in_order(departments) -> None:
    ledger = Ledger(departments)
    ticket = outage_ticket("2025-07-01 09:00", id="TS-1")
    entry = ledger.record(ticket)
    assert entry.department == "grid" and entry.missing == ["handled", "rechecked", "fed_back"]
    with pytest.raises(WorkflowError) as err:
        ledger.recheck("TS-1", at=at("2025-07-01 10:00"), actor="质检员陈静", ok=True)
    assert err.value.code == "AF641" and "not handled" in err.value.message

    walk_to_execution(ticket, "2025-07-01 09:10")
    ticket.resolve(at=at("2025-07-01 11:00"), actor=AGENT)
    ledger.sync(ticket)
    assert entry.handled_at == at("2025-07-01 11:00")
    with pytest.raises(WorkflowError) as err:
        ledger.feed_back("TS-1", at=at("2025-07-01 12:00"), actor="班长赵敏")
    assert err.value.code == "AF641"

    ledger.recheck("TS-1", at=at("2025-07-02 10:00"), actor="质检员陈静", ok=True, note="回访确认已恢复供电")
    events = ledger.feed_back("TS-1", at=at("2025-07-02 11:00"), actor="班长赵敏", note="3号楼专变老化，建议更换")
    assert events[0].name == "feedback.sent" and events[0].department == "grid"
    updated = ledger.update_feedback("TS-1", "actioned", at=at("2025-07-10 15:00"), actor="配电运检科",
                                     note="专变已列入本月技改计划")
    assert updated[0].state == "actioned" and entry.complete
    assert [h[2] for h in entry.feedback_history] == ["sent", "actioned"]
    assert entry.to_dict()["missing"] == []
    with pytest.raises(WorkflowError) as err:
        ledger.feed_back("TS-1", at=at("2025-07-11 09:00"), actor="班长赵敏")
    assert "already sent" in err.value.message


def test_gaps_show_what_is_missing_and_a_reopen_undoes_handling(departments) -> None:
    ledger = Ledger(departments)
    done = handled("TS-A", "billing", "telecom")
    ledger.sync(done)
    ledger.recheck("TS-A", at=at("2025-07-02 10:00"), actor="质检员陈静", ok=True)
    ledger.feed_back("TS-A", at=at("2025-07-02 11:00"), actor="班长赵敏")
    failed = handled("TS-B", "refund", "ecommerce")
    ledger.sync(failed)
    ledger.recheck("TS-B", at=at("2025-07-02 10:00"), actor="质检员陈静", ok=False, note="客户称退款未到账")
    ledger.record(outage_ticket(id="TS-C"))
    assert ledger.gaps() == {"recorded": [], "handled": ["TS-C"], "rechecked": ["TS-B", "TS-C"],
                             "fed_back": ["TS-B", "TS-C"]}
    summary = ledger.summary()
    assert summary["total"] == 3 and summary["complete"] == 1
    assert summary["steps"] == {"recorded": 3, "handled": 2, "rechecked": 1, "fed_back": 1}
    assert summary["by_department"]["billing"]["sent"] == 1

    done.close(at=at("2025-07-03 09:00"), actor=AGENT)
    done.reopen(at=at("2025-07-04 09:00"), actor=AGENT, reason="客户再次来电：又被扣费")
    ledger.sync(done)
    assert "TS-A" in ledger.gaps()["handled"] and ledger.entry("TS-A").recheck_ok is None


def test_feedback_state_errors(departments) -> None:
    ledger = Ledger(departments)
    with pytest.raises(WorkflowError) as err:
        ledger.entry("TS-404")
    assert err.value.code == "AF640"
    ledger.sync(handled("TS-D", "delivery", "ecommerce"))
    with pytest.raises(WorkflowError) as err:
        ledger.update_feedback("TS-D", "acknowledged", at=at("2025-07-02 10:00"), actor="物流部")
    assert err.value.code == "AF641"
    with pytest.raises(WorkflowError) as err:
        ledger.update_feedback("TS-D", "done", at=at("2025-07-02 10:00"), actor="物流部")
    assert err.value.code == "AF601" and "actioned" in err.value.message
    with pytest.raises(WorkflowError) as err:
        ledger.recheck("TS-D", at=at("2025-07-01 10:00"), actor="质检员陈静", ok=True)
    assert "before" in err.value.message


def test_repeated_causes_surface_above_the_threshold(departments) -> None:
    ledger = Ledger(departments)
    for i, day in enumerate(("2025-07-01", "2025-07-03", "2025-07-08", "2025-07-09")):
        ledger.record(outage_ticket(f"{day} 09:00", id=f"TS-OUT-{i}"))            # 停电 in one district
    for i, day in enumerate(("2025-07-02", "2025-07-04", "2025-07-05")):
        ledger.record(outage_ticket(f"{day} 09:00", id=f"TS-BILL-{i}", cause="billing", industry="telecom"))
    ledger.record(outage_ticket("2025-07-02 09:00", id="TS-REF-0", cause="refund", industry="ecommerce"))
    found = repeated_causes(ledger, threshold=3)
    assert [(r.cause, r.department, r.count) for r in found] == [("outage", "grid", 4), ("billing", "billing", 3)]
    assert found[0].ticket_ids == ("TS-OUT-0", "TS-OUT-1", "TS-OUT-2", "TS-OUT-3")
    first_week = repeated_causes(ledger, threshold=3, since=at("2025-07-01 00:00"), until=at("2025-07-07 00:00"))
    assert [r.cause for r in first_week] == ["billing"]
    assert repeated_causes(ledger.entries.values(), threshold=5) == []
    with pytest.raises(WorkflowError):
        repeated_causes(ledger, threshold=0)


def test_departments_pack_is_validated(tmp_path: Path) -> None:
    data = yaml.safe_load((RULES_ROOT / "zh_CN" / "departments.yaml").read_text(encoding="utf-8"))
    assert validate_departments(data) == []
    del data["causes"]["delivery"]
    data["causes"]["billing"] = "finance"
    data["industries"]["space"] = {"outage": "grid"}
    data["industries"]["power"]["停电"] = "grid"
    problems = "\n".join(validate_departments(data))
    for needle in ("causes.delivery is missing", "unknown department 'finance'", "industries.space",
                   "industries.power.停电 is not a cause"):
        assert needle in problems, needle
    (tmp_path / "departments.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(RulePackError) as err:
        Departments.load(rules_dir=tmp_path)
    assert err.value.code == "AF301"
