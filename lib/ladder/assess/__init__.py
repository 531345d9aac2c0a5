"""The maturity assessment: evidence from git and hosts, DORA metrics, answers, scores and charts."""

from ..core.errors import NotARepository
from .charts import practice_bars, rung_radar, trend_chart
from .checks import CheckResult
from .dora import DoraReport, dora_metrics
from .evidence import gather_host_evidence, gather_repo_evidence
from .model import Model, load_model
from .questionnaire import Answers, answer_form, load_answers, save_answers
from .repo_facts import describe_repo
from .result import changes_since, journal_history, load_assessment, load_history, record_assessment, write_assessment
from .score import Assessment, score
from .steps import assess

__all__ = [
    "Answers",
    "Assessment",
    "CheckResult",
    "DoraReport",
    "Model",
    "NotARepository",
    "answer_form",
    "assess",
    "changes_since",
    "describe_repo",
    "dora_metrics",
    "gather_host_evidence",
    "gather_repo_evidence",
    "journal_history",
    "load_answers",
    "load_assessment",
    "load_history",
    "load_model",
    "practice_bars",
    "record_assessment",
    "rung_radar",
    "save_answers",
    "score",
    "trend_chart",
    "write_assessment",
]
