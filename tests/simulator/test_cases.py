"""The case library's anonymiser and case builder: personal data and names go, the trajectory,
what worked and what hurt stay."""

from __future__ import annotations

from anfu.simulator.cases import anonymise, build_case, case_title, name_map
from anfu.types import Conversation


def test_personal_information_and_names_are_removed() -> None:
    text = ("我叫张伟，手机13812345678，邮箱zhangwei@example.com，住在北京市朝阳区建国路88号。"
            "王先生您好，我是坐席李强，工号 10086。这位师傅姓陈。")
    out = anonymise(text, name_map(["张伟"], ["李强"]))
    for secret in ("张伟", "13812345678", "zhangwei@example.com", "建国路88号", "王先生", "李强", "10086", "姓陈"):
        assert secret not in out, secret
    assert "[手机号]" in out and "[邮箱]" in out and "[地址]" in out and "某先生" in out and "[坐席]" in out
    assert "这位师傅" in out  # not a surname: left alone
    assert anonymise("请问您贵姓？姓名是什么？") == "请问您贵姓？姓名是什么？"


def test_a_case_keeps_the_trajectory_and_what_worked(analyzer) -> None:
    turns = [("customer", "停电三天了还没人来修！！！我手机13912345678，再不来我就投诉！"),
             ("agent", "这是我们公司的规定。"),
             ("customer", "你这是什么态度？！气死我了！"),
             ("agent", "非常抱歉让您着急了，我马上为您派抢修人员，2小时内到达，到了给您打电话。"),
             ("customer", "好的，那我等着，谢谢。")]
    analysis = analyzer(Conversation.from_texts(turns, industry="power")).to_dict()
    case = build_case([{"speaker": s, "text": t} for s, t in turns], analysis, industry="power")
    assert "13912345678" not in str(case)
    assert len(case["trajectory"]) == 3 and case["trajectory"][-1] < max(case["trajectory"])
    assert [w["turn"] for w in case["what_worked"]] == [4]
    assert [h["turn"] for h in case["what_hurt"]] == [2] and case["what_hurt"][0]["why"]
    assert case["industry"] == "power" and case["cause"] in ("outage", "repair")
    assert case_title(case).startswith("停电三天了")
