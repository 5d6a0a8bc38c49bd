"""The exporter contract. An exporter plans the documents it makes and renders each to
bytes; the core names, writes and lists the files. Exporters never see markdown."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import ClassVar, Protocol

from cfexport.model import Framework, Problem, Source


@dataclass(frozen=True, slots=True)
class Document:
    """One file an exporter will write.

    `path` holds human-readable segments (titles are fine: the core turns each into a
    safe file name); `suffix` is the extension. `key` is whatever the exporter needs to
    find the content again in `render` (it must pickle: documents go to worker processes).
    craft/specialism/level describe the document in the manifest; None where it spans more.
    """

    path: tuple[str, ...]
    suffix: str
    craft: str | None = None
    specialism: str | None = None
    level: int | None = None
    key: tuple = ()


@dataclass
class Context:
    """What every render gets besides the model: the templates folder, the build date,
    and a place to report warnings (file and line of the framework text concerned)."""

    templates: Path
    build_time: datetime
    version: str
    problems: list[Problem] = field(default_factory=list)
    versioned: bool | None = None  # the framework has a `version`; None: guess (a version equal to the build date is not one)

    @classmethod
    def for_framework(cls, framework: Framework, templates: Path, when: datetime) -> Context:
        """The context of one build or promotion round: the framework's version, else the build date."""
        return cls(templates=Path(templates).absolute(), build_time=when,
                   version=framework.version or when.date().isoformat(), versioned=bool(framework.version))

    @property
    def stamp(self) -> str:
        """"Version 2.1" when the framework has a version, else "Built 2026-12-01": a build date
        is never labelled as a version."""
        built = self.build_time.date().isoformat()
        versioned = self.versioned if self.versioned is not None else self.version != built
        return f"Version {self.version}" if versioned else f"Built {built}"

    def warn(self, source: Source, message: str) -> None:
        self.problems.append(Problem("warning", source, message))


class ExportError(Exception):
    """A document cannot be written as the framework or template stands; says what to fix."""

    def __init__(self, message: str, source: Source | None = None):
        super().__init__(message, source)  # both in args, so it survives a worker process
        self.message = message
        self.source = source

    def __str__(self) -> str:
        return f"{self.source}: error: {self.message}" if self.source else f"error: {self.message}"


class Exporter(Protocol):
    name: ClassVar[str]  # the --format value and the entry-point name
    description: ClassVar[str]  # one line for `cfexport formats`

    def plan(self, framework: Framework) -> list[Document]: ...

    def render(self, framework: Framework, document: Document, context: Context) -> bytes: ...
