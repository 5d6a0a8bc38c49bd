"""The framework as the web page shows it: read once, then again when its pages change.

Every request asks `FrameworkStore.snapshot()`. At most once a second that walks the site's
files (a stat of each, no reading) and compares names, sizes and modification times with
the last walk; when anything changed the framework is read again. A read with errors keeps
the last good framework on show, with the new problems and a banner pointing at them.
Rendered documents are cached by framework generation, so an edit never serves stale files.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from cfexport.model import Framework, Problem

log = logging.getLogger("cfexport.web")

CHECK_EVERY = 1.0  # seconds between two walks of the site's files
MAX_WATCHED = 20_000  # files looked at in one walk (a home folder passed by mistake stops here)
SKIP_DIRS = {"_site", "node_modules", "vendor", ".git", ".jekyll-cache", ".sass-cache"}
CACHE_SIZE = 64  # rendered documents kept in memory


@dataclass(frozen=True)
class Snapshot:
    """What one request sees. `framework` is the last good read (None when there never was one);
    `problems` are those of the latest read, which may be newer than `framework` (`stale`)."""

    framework: Framework | None
    problems: tuple[Problem, ...]
    theme_problems: tuple[Problem, ...]
    generation: int
    read_at: datetime
    stale: bool  # the latest read failed: the framework shown is an older one

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems + self.theme_problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems + self.theme_problems if p.severity == "warning")


def _watch_root(framework_dir: Path) -> Path:
    """The whole site the framework belongs to (its _config.yml and includes count too)."""
    try:
        from cfexport.readers.jekyll.site import find_site_root

        return find_site_root(framework_dir)
    except Exception:  # a reader without it: the framework folder alone
        return framework_dir.absolute()


def fingerprint(root: Path, templates: Path | None = None) -> str:
    """A digest of the names, sizes and modification times of the files under `root` (and the
    theme's folder): it changes when a page is edited, added, removed or renamed."""
    digest = hashlib.blake2b(digest_size=16)
    seen = 0
    for top in (root, templates):
        if top is None:
            continue
        for folder, dirs, files in os.walk(top):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
            for name in sorted(files):
                try:
                    st = os.stat(os.path.join(folder, name))
                except OSError:
                    continue
                digest.update(f"{folder}/{name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode("utf-8", "replace"))
                seen += 1
                if seen >= MAX_WATCHED:
                    return digest.hexdigest()
    return digest.hexdigest()


class FrameworkStore:
    def __init__(self, framework_dir: Path, templates: Path, root: str | None = None,
                 check_every: float = CHECK_EVERY):
        self.framework_dir = Path(framework_dir)
        self.templates = Path(templates)
        self.root = root
        self.check_every = check_every
        self._watch = _watch_root(self.framework_dir)
        self._lock = threading.Lock()
        self._checked = 0.0
        self._print = ""
        self._snapshot: Snapshot | None = None
        self._good: Framework | None = None
        self._cache: OrderedDict[tuple, bytes] = OrderedDict()
        self._render_lock = threading.Lock()  # the exporters render one document at a time
        self.reload(force=True)

    # -- reading -------------------------------------------------------------------------
    def reload(self, force: bool = False) -> Snapshot:
        """Read the framework again when its files changed (or when `force`)."""
        from cfexport.exporters.theme_values import theme_problems  # as validate: the values refused too
        from cfexport.readers import read_framework

        with self._lock:
            now = time.monotonic()
            if not force and self._snapshot is not None and now - self._checked < self.check_every:
                return self._snapshot
            self._checked = now
            current = fingerprint(self._watch, self.templates)
            if not force and current == self._print and self._snapshot is not None:
                return self._snapshot
            self._print = current
            try:
                result = read_framework(self.framework_dir, self.root)
                problems, fw = tuple(result.problems), result.framework
            except Exception:  # a reader bug must not take the page down: keep what we had
                log.exception("reading %s failed", self.framework_dir)
                from cfexport.model import Source

                problems = (Problem("error", Source(str(self.framework_dir), 0),
                                    "the framework could not be read (an internal error; see the server's log)"),)
                fw = None
            theme = tuple(theme_problems(self.templates))
            good = fw is not None and not any(p.severity == "error" for p in problems)
            previous = self._snapshot
            if good:
                self._good = fw
                shown, stale = fw, False
            elif self._good is not None:  # a bad edit: keep showing the last good framework
                shown, stale = self._good, True
            else:  # never read without errors: show what could be read, problems and all
                shown, stale = fw, False
            generation = (previous.generation + 1) if previous else 1
            self._snapshot = Snapshot(shown, problems, theme, generation, datetime.now(timezone.utc), stale)
            self._cache.clear()
            if previous is not None:
                log.info("framework read again (generation %d): %d error(s), %d warning(s)%s", generation,
                         sum(p.severity == "error" for p in problems), sum(p.severity == "warning" for p in problems),
                         "; showing the last good version" if stale else "")
            return self._snapshot

    def snapshot(self) -> Snapshot:
        return self.reload()

    # -- documents -------------------------------------------------------------------------
    def document(self, snap: Snapshot, key: tuple, make: Callable[[], bytes]) -> bytes:
        """`make()` once per framework generation and key; at most one render at a time."""
        full = (snap.generation, *key)
        with self._render_lock:
            data = self._cache.get(full)
            if data is None:
                data = make()
                self._cache[full] = data
                while len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)
            else:
                self._cache.move_to_end(full)
            return data

    def render(self, make: Callable[[], bytes | dict]):
        """Run an uncached render (packs: they hold a person's name) one at a time."""
        with self._render_lock:
            return make()
