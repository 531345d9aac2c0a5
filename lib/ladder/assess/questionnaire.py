"""Questionnaire answers: a YAML file headless, an ipywidgets form in JupyterLab. Unanswered is explicit."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import yaml
from pydantic import Field, ValidationError

from ..core.errors import AnswersError
from ..core.private import write_private
from ..core.validation import Strict, explain, read_yaml
from .model import Model

NOT_ANSWERED = "not answered"


class AnswersFile(Strict):
    """An answers file as written: answers by practice id, and notes."""

    # Each answer is checked against the model's choices (normalize), which names the choices in its error.
    answers: dict[str, Any] | None = Field(None, description="practice id -> yes, partly, no or null")
    notes: dict[str, str | None] | None = Field(None, description="practice id -> free text")
    repository: dict[str, Any] | None = Field(None, description="whose answers these are (kept_answers writes it)")
    fixes: ClassVar[dict[str, str]] = {
        "answers": "it must map practice ids to yes, partly or no (null: not answered)",
        "notes": "it must map practice ids to text",
    }


@dataclass
class Answers:
    """Answers by practice id: 'yes', 'partly', 'no' or None (not answered), plus free-text notes."""

    values: dict[str, str | None] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    path: Path | None = None

    def get(self, practice_id: str) -> str | None:
        """The answer to a practice's question, or None when it was not answered."""
        return self.values.get(practice_id)

    def answered(self) -> dict[str, str]:
        """Only the questions that have an answer."""
        return {k: v for k, v in self.values.items() if v is not None}


def normalize(value: Any, choices: tuple[str, ...]) -> str | None:
    """An answer as one of choices, or None for not answered; ValueError for anything else."""
    if value is None:
        return None
    if isinstance(value, bool):  # YAML 1.1 reads bare yes/no as booleans
        value = "yes" if value else "no"
    text = str(value).strip().lower()
    if text in ("", NOT_ANSWERED, "not-answered", "unanswered", "skip", "~", "null"):
        return None
    if text not in choices:
        raise ValueError(text)
    return text


def load_answers(path: str | Path | None, model: Model | None = None) -> Answers:
    """Answers from a YAML file ({answers: {practice-id: yes|partly|no|null}}); None gives no answers at all."""
    if path is None:
        return Answers()
    file = Path(path).expanduser()
    if not file.is_file():
        raise AnswersError("file not found; pass an existing answers file or leave --answers out", path=file)
    data = read_yaml(file, error=AnswersError) or {}
    if not isinstance(data, dict):
        raise AnswersError("the top level must be a mapping with answers:", path=file)
    try:
        checked = AnswersFile.model_validate(data)
    except ValidationError as exc:
        raise explain(exc, AnswersFile, path=file, error=AnswersError) from None
    raw = checked.answers or {}
    notes_raw = checked.notes or {}
    choices = tuple(model.answers) if model else ("yes", "partly", "no")
    known = {p.id for p in model.practices} if model else None
    values: dict[str, str | None] = {}
    for key, value in raw.items():
        if known is not None and key not in known:
            raise AnswersError(
                f"unknown practice; use one of: {', '.join(sorted(known))}", path=file, key=f"answers.{key}"
            )
        try:
            values[key] = normalize(value, choices)
        except ValueError:
            raise AnswersError(
                f"answer {value!r} is not one of {', '.join(choices)} or null (not answered)",
                path=file,
                key=f"answers.{key}",
            ) from None
    if known is not None:
        for pid in known:
            values.setdefault(pid, None)
    notes = {k: v for k, v in notes_raw.items() if v}
    return Answers(values, notes, file)


def dump_answers(answers: Answers, model: Model | None = None) -> str:
    """YAML text for an answers file, each answer preceded by its question as a comment."""
    lines = ["# Ladder assessment answers: yes, partly, no, or null for not answered.", "answers:"]
    ids = [p.id for p in model.practices] if model else sorted(answers.values)
    for pid in ids:
        if model:
            lines.append(f"  # {model.practice(pid).question}")
        value = answers.values.get(pid)
        lines.append(f"  {pid}: {'null' if value is None else repr(value)}")
    extra = sorted(set(answers.values) - set(ids))
    for pid in extra:
        value = answers.values[pid]
        lines.append(f"  {pid}: {'null' if value is None else repr(value)}")
    if answers.notes:
        lines.append(yaml.safe_dump({"notes": answers.notes}, sort_keys=True, allow_unicode=True).rstrip())
    return "\n".join(lines) + "\n"


def save_answers(answers: Answers, path: str | Path, model: Model | None = None) -> Path:
    """Write an answers file that load_answers reads back unchanged."""
    return write_private(path, dump_answers(answers, model))


class AnswerForm:
    """An ipywidgets form, one question per practice, pre-filled from previous answers; on_change sees each click."""

    def __init__(
        self,
        model: Model,
        previous: Answers | str | Path | None = None,
        on_change: Callable[[Answers], object] | None = None,
    ) -> None:
        import ipywidgets as w

        if previous is not None and not isinstance(previous, Answers):
            previous = load_answers(previous, model) if Path(previous).is_file() else Answers()
        self.model = model
        self.previous = previous or Answers()
        options = [NOT_ANSWERED, *model.answers]
        self.inputs: dict[str, Any] = {}
        sections = []
        for rung in model.rungs:
            rows = [w.HTML(f"<b>Rung {rung.id}: {rung.title}</b>")]
            for p in rung.practices:
                current = self.previous.get(p.id)
                toggle = w.ToggleButtons(
                    options=options,
                    value=current if current in options else NOT_ANSWERED,
                    description="",
                    style={"button_width": "auto"},
                )
                if on_change is not None:
                    toggle.observe(lambda _: on_change(self.answers()), names="value")
                self.inputs[p.id] = toggle
                rows.append(w.VBox([w.HTML(f"{p.title}: <i>{p.question}</i>"), toggle]))
            sections.append(w.VBox(rows))
        self.widget = w.VBox(sections)

    def answers(self) -> Answers:
        """The answers as currently set in the form."""
        values = {pid: (None if box.value == NOT_ANSWERED else box.value) for pid, box in self.inputs.items()}
        return Answers(values, dict(self.previous.notes))

    def set(self, values: Mapping[str, str | None]) -> None:
        """Set some answers programmatically (None clears one)."""
        for pid, value in values.items():
            self.inputs[pid].value = NOT_ANSWERED if value is None else value

    def save(self, path: str | Path) -> Path:
        """Write the form's answers to a YAML file."""
        return save_answers(self.answers(), path, self.model)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


def answer_form(
    model: Model, previous: Answers | str | Path | None = None, on_change: Callable[[Answers], object] | None = None
) -> AnswerForm:
    """Build the questionnaire form, pre-filled from a previous answers file when one exists."""
    return AnswerForm(model, previous, on_change)
