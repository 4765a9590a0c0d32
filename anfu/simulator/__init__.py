"""Training simulator (情景模拟 / 角色扮演): scenarios as data files, a simulated customer driven by
the analyzer and the rule packs, session scoring with turn-by-turn feedback, and the case library
(案例分析) built from closed conversations.

    >>> from anfu.simulator import get_scenario, Simulator
    >>> sim = Simulator(get_scenario("power_outage_elderly"), seed=7)
    >>> first = sim.start()                       # the customer's opening line
    >>> turn, answer = sim.reply("您好，非常抱歉让您久等了。")
    >>> sim.summary()["outcome"] in ("resolved", "ongoing", "escalated")
    True
"""

from __future__ import annotations

from .bank import SimulatorPack, load_simulator_pack
from .engine import SKILLS, AgentTurn, CustomerLine, Simulator, default_analyzer, run_session
from .scenarios import Scenario, build_scenario, get_scenario, load_scenarios, parse_scenario_yaml

__all__ = ["SKILLS", "AgentTurn", "CustomerLine", "Scenario", "Simulator", "SimulatorPack", "build_scenario",
           "default_analyzer", "get_scenario", "load_scenarios", "load_simulator_pack", "parse_scenario_yaml",
           "run_session"]
