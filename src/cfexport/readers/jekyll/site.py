"""A Jekyll site as Jekyll sees it: its `_config.yml`, which files are pages, and the URL
each page is published at.

This module answers "what would `jekyll build` publish, and where": it reads no page body
beyond its front matter and knows nothing of career frameworks.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from cfexport import frontmatter
from cfexport.model import Problem, Source
from cfexport.text import DecodeError, clean_lines, decode, fix_structure, normalise

CONFIG = "_config.yml"
MAX_PAGE_BYTES = 8 * 1024 * 1024
MAX_PAGES = 20_000  # files looked at; a site root pointed at by mistake (a home folder) stops here
DEFAULT_MARKDOWN_EXT = "markdown,mkdown,mkdn,mkd,md"
# Jekyll 4's own default `exclude` list.
DEFAULT_EXCLUDE = [".sass-cache", ".jekyll-cache", "gemfiles", "Gemfile", "Gemfile.lock", "node_modules",
                   "vendor/bundle/", "vendor/cache/", "vendor/gems/", "vendor/ruby/"]


@dataclass
class SiteConfig:
    """What `_config.yml` says that decides pages and URLs (all values as strings)."""

    data: dict = field(default_factory=dict)
    file: str | None = None  # relative to the site root, when there is one

    def _text(self, key: str, default: str = "") -> str:
        value = frontmatter.text(self.data.get(key))
        return value if value is not None else default

    @property
    def baseurl(self) -> str:
        base = self._text("baseurl").strip().rstrip("/")
        return "" if not base else base if base.startswith("/") else "/" + base

    @property
    def url(self) -> str:
        return self._text("url").strip().rstrip("/")

    @property
    def permalink(self) -> str:
        return self._text("permalink", "date").strip() or "date"

    @property
    def markdown_ext(self) -> tuple[str, ...]:
        exts = self._text("markdown_ext", DEFAULT_MARKDOWN_EXT)
        return tuple("." + e.strip().lstrip(".").lower() for e in exts.split(",") if e.strip())

    def _list(self, key: str) -> list[str]:
        value = self.data.get(key)
        if isinstance(value, str):
            return [value]
        return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []

    @property
    def exclude(self) -> list[str]:
        return DEFAULT_EXCLUDE + self._list("exclude")

    @property
    def include(self) -> list[str]:
        return self._list("include")

    @property
    def collections(self) -> dict[str, dict]:
        """The collections `_config.yml` declares (`collections:` as a list of labels or a mapping of
        label to settings), label to settings. `posts` (a blog) is never a framework's."""
        value = self.data.get("collections")
        if isinstance(value, list):
            found = {v: {} for v in value if isinstance(v, str)}
        elif isinstance(value, dict):
            found = {k: (v if isinstance(v, dict) else {}) for k, v in value.items() if isinstance(k, str)}
        else:
            found = {}
        return {label: settings for label, settings in found.items()
                if label.strip() and "/" not in label and label not in ("posts", "drafts")}

    def collection_folder(self, label: str) -> str:
        """The folder of a collection's documents, from the site root: `_label`, under `collections_dir`."""
        return posixpath.join(self._text("collections_dir").strip().strip("/"), "_" + label)

    @property
    def defaults(self) -> list[tuple[str, str | None, dict]]:
        """(scope path, scope type, values) of each `defaults` entry."""
        out = []
        entries = self.data.get("defaults")
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict) or not isinstance(entry.get("values"), dict):
                continue
            scope = entry.get("scope") if isinstance(entry.get("scope"), dict) else {}
            path = frontmatter.text(scope.get("path")) or ""
            out.append((path.strip("/"), frontmatter.text(scope.get("type")), entry["values"]))
        return out


@dataclass
class SitePage:
    """A file Jekyll renders as a page: its front matter (site defaults merged under it) and body."""

    file: str  # relative to the site root, forward slashes
    meta: dict
    body: str
    body_line: int  # the file line the body starts on
    front_matter: list[str]  # the YAML lines of the file, file lines 2..
    url: str  # without baseurl, e.g. "/careers/engineering/"
    collection: str | None = None  # the collection it is a document of (`_careers/...`); None: a page

    def field_line(self, key: str) -> int:
        """The file line of a top-level front-matter key (1 when it comes from the site's defaults)."""
        for number, raw in enumerate(self.front_matter, 2):
            if raw.split(":", 1)[0].strip() == key:
                return number
        return 1

    @property
    def title(self) -> str:
        return frontmatter.text(self.meta.get("title")) or ""

    @property
    def folder(self) -> str:
        return posixpath.dirname(self.file)


@dataclass
class Site:
    """Every page of the site, and what the site's configuration says."""

    root: Path
    config: SiteConfig
    pages: list[SitePage]
    drafts: list[SitePage]  # `published: false`: not built, listed for `validate --verbose`
    problems: list[Problem]
    _liquid: dict | None = field(default=None, repr=False, compare=False)
    _typed: SiteConfig | None = field(default=None, repr=False, compare=False)

    def liquid_config(self, problems: list[Problem]) -> dict:
        """`site` as Liquid sees it: `_config.yml` and `site.data` (the `_data` folder, read the first
        time a page needs it; its problems go to `problems` then, once)."""
        if self._liquid is None:
            from cfexport.readers.jekyll.data import load_data

            data, found = load_data(self.root, self.config._text("data_dir", "_data").strip() or "_data")
            problems.extend(found)
            self._liquid = {**self._typed_config().data, "data": data}
        return self._liquid

    def _typed_config(self) -> SiteConfig:
        """`_config.yml` with its values typed as Jekyll's YAML loader types them (`false` is false,
        `5` is 5), for Liquid; read once. The text values when it cannot be read again."""
        if self._typed is None:
            self._typed = self.config
            if self.config.file is not None:
                try:
                    data = frontmatter.load_typed(normalise(decode((self.root / self.config.file).read_bytes())),
                                                  1, CONFIG)
                except (DecodeError, frontmatter.YamlError, OSError):
                    data = None
                if isinstance(data, dict):
                    self._typed = SiteConfig(data, self.config.file)
        return self._typed

    def liquid_page(self, page: SitePage) -> dict:
        """`page` as Liquid sees it: its front matter (the site's `defaults` under it) typed as Jekyll's
        YAML loader types it, `url` and `path`. The text values when it cannot be read again."""
        meta = page.meta
        try:
            own = frontmatter.load_typed("\n".join(page.front_matter), 2, "front matter")
            own = {} if own is None else own  # (`---` then `---`: the defaults alone)
        except frontmatter.YamlError:
            own = None
        if isinstance(own, dict):
            meta = {**_defaults_for(page.file, self._typed_config(), page.collection), **own}
        return {**meta, "url": page.url, "path": page.file}

    def page_at(self, file: str) -> SitePage | None:
        return next((p for p in self.pages if p.file == file), None)

    def url_of(self, file: str) -> str | None:
        """The URL (without baseurl) of the page written at `file` (site-relative), as `{% link %}` needs."""
        file = posixpath.normpath(file.strip().lstrip("/"))
        page = self.page_at(file)
        return page.url if page else None

    def normalise_link(self, href: str, from_url: str) -> tuple[str, str] | None:
        """A link written on the page at `from_url` as (site path, fragment), both comparable:
        no scheme/host of this site, no baseurl, no `index.html`, `.html` or trailing slash,
        percent-decoded. None for a link to another site."""
        parts = urlsplit(href.strip())
        if parts.scheme or parts.netloc:
            own = urlsplit(self.config.url) if self.config.url else None
            if own is None or (parts.scheme, parts.netloc) != (own.scheme, own.netloc):
                return None
        path = unquote(parts.path)
        fragment = normalise(unquote(parts.fragment))
        if not path:
            path = from_url
        elif not path.startswith("/"):
            path = posixpath.join(from_url if from_url.endswith("/") else posixpath.dirname(from_url) + "/", path)
        base = self.config.baseurl
        if base and (path == base or path.startswith(base + "/")):
            path = path[len(base):] or "/"
        return comparable_url(path), fragment


def comparable_url(url: str) -> str:
    """`/a/b/`, `/a/b`, `/a/b.html` and `/a/b/index.html` are one page."""
    path = posixpath.normpath("/" + url.lstrip("/")) if url else "/"
    for suffix in ("/index.html", "/index.htm", ".html", ".htm"):
        if path.endswith(suffix):
            path = path[: -len(suffix)]
            break
    return path.rstrip("/") or "/"


def find_site_root(folder: Path) -> Path:
    """The site a folder belongs to: the nearest folder up with a `_config.yml`, not past the top
    of a git repository; the folder itself when there is none."""
    folder = folder.absolute()
    for candidate in (folder, *folder.parents):
        if (candidate / CONFIG).is_file():
            return candidate
        if (candidate / ".git").exists():
            break
    return folder


def load_site(folder: Path) -> Site:
    """Every page of the site `folder` belongs to, as Jekyll would publish it."""
    root = find_site_root(folder)
    problems: list[Problem] = []
    config = _load_config(root, problems)
    pages, drafts = [], []
    collections = _collections(root, config, problems)
    for rel, path in _candidate_files(root, config, problems, [folder for folder, _ in collections]):
        collection = next((label for folder, label in collections if rel.startswith(folder + "/")), None)
        page = _read_page(root, rel, path, config, problems, collection)
        if page is None:
            continue
        if frontmatter.flag(page.meta.get("published")) is False:
            drafts.append(page)
            problems.append(Problem("info", Source(rel, page.field_line("published")),
                                    "published: false: a draft, not read"))
        else:
            pages.append(page)
    return Site(root, config, pages, drafts, problems)


def _load_config(root: Path, problems: list[Problem]) -> SiteConfig:
    path = root / CONFIG
    if not path.is_file():
        return SiteConfig()
    try:
        meta = frontmatter.load(normalise(decode(path.read_bytes())), 1, "_config.yml")
    except DecodeError as exc:
        problems.append(Problem("error", Source(CONFIG, exc.line), exc.message))
        return SiteConfig(file=CONFIG)
    except frontmatter.YamlError as exc:
        problems.append(Problem("error", Source(CONFIG, exc.line), exc.message))
        return SiteConfig(file=CONFIG)
    except OSError as exc:
        problems.append(Problem("error", Source(CONFIG, 1), f"cannot read the file: {exc.strerror or exc}"))
        return SiteConfig(file=CONFIG)
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        problems.append(Problem("error", Source(CONFIG, 1), "_config.yml must be a set of 'key: value' lines"))
        return SiteConfig(file=CONFIG)
    return SiteConfig(meta, CONFIG)


def _collections(root: Path, config: SiteConfig, problems: list[Problem]) -> list[tuple[str, str]]:
    """(folder from the site root, label) of each collection Jekyll writes pages for (`output: true`).
    A collection without it has no pages on the site: said once, as it is not read."""
    found = []
    for label, settings in config.collections.items():
        folder = config.collection_folder(label)
        if not (root / folder).is_dir():
            continue
        if frontmatter.flag(settings.get("output")) is True:
            found.append((folder, label))
        else:
            problems.append(Problem("info", Source(CONFIG, 1), f"the collection '{label}' ({folder}/) has no "
                                    "pages on the site (no 'output: true' in _config.yml): not read"))
    return found


def _matches(rel: str, patterns: list[str]) -> bool:
    """Jekyll's exclude/include test: a pattern names a file or folder (or a glob) from the site root."""
    for pattern in patterns:
        pat = pattern.strip().strip("/")
        if not pat:
            continue
        if rel == pat or rel.startswith(pat + "/") or fnmatch.fnmatchcase(rel, pat) \
                or fnmatch.fnmatchcase(rel.split("/", 1)[0], pat):
            return True
    return False


def _candidate_files(root: Path, config: SiteConfig, problems: list[Problem], collections: list[str] = ()):
    """(relative path, path) of every markdown file Jekyll would consider, in path order: the site's
    pages and the documents of the `collections` folders. Symlinks that stay inside the site are
    followed (once); those that leave it are not."""
    exts = config.markdown_ext
    real_root = root.resolve()
    seen_dirs: set[Path] = set()
    count = 0
    stack = [(root, "")] + [(root / folder, folder) for folder in reversed(collections)]
    found = []
    while stack:
        folder, rel_folder = stack.pop()
        try:
            real = folder.resolve()
            if real in seen_dirs:
                continue
            seen_dirs.add(real)
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            problems.append(Problem("warning", Source(rel_folder or ".", 0),
                                    f"cannot read the folder: {exc.strerror or exc}"))
            continue
        for entry in entries:
            rel = f"{rel_folder}/{entry.name}" if rel_folder else entry.name
            hidden = entry.name.startswith(("_", ".", "#")) or entry.name.endswith("~")
            if hidden and not _matches(rel, config.include):
                continue
            if _matches(rel, config.exclude) and not _matches(rel, config.include):
                continue
            path = Path(entry.path)
            if entry.is_symlink():
                try:
                    target = path.resolve(strict=True)
                except (OSError, RuntimeError):
                    if path.suffix.lower() in exts:
                        problems.append(Problem("error", Source(rel, 1), "cannot read the page: it is a broken "
                                                f"symlink (to {os.readlink(path)}); fix or remove it"))
                    continue
                if not target.is_relative_to(real_root):
                    problems.append(Problem("warning", Source(rel, 1 if target.is_file() else 0),
                                            f"a symlink to {target}, outside the site: left out (Jekyll does "
                                            "not publish it either); copy the files into the site"))
                    continue
            try:
                is_dir = path.is_dir()
            except OSError:
                continue
            if is_dir:
                stack.append((path, rel))
            elif path.suffix.lower() in exts:
                count += 1
                if count > MAX_PAGES:
                    problems.append(Problem("error", Source(".", 0), f"more than {MAX_PAGES} markdown files: "
                                            "is --framework the site's folder?"))
                    return sorted(found)
                found.append((rel, path))
    return sorted(found)


def _read_page(root: Path, rel: str, path: Path, config: SiteConfig, problems: list[Problem],
               collection: str | None = None) -> SitePage | None:
    try:
        data = path.read_bytes()
    except OSError as exc:
        problems.append(Problem("error", Source(rel, 1), f"cannot read the page: {exc.strerror or exc}"))
        return None
    if not data.startswith((b"---", b"\xef\xbb\xbf---")):
        problems.append(Problem("info", Source(rel, 1), "no front matter: Jekyll copies it as a file, "
                                "not a page; not read"))
        return None
    if len(data) > MAX_PAGE_BYTES:
        problems.append(Problem("error", Source(rel, 1), f"page is larger than {MAX_PAGE_BYTES // 2**20} MiB; split it"))
        return None
    try:
        text = decode(data)
    except DecodeError as exc:
        problems.append(Problem("error", Source(rel, exc.line), exc.message))
        return None
    text = fix_structure(clean_lines(normalise(text), rel, problems), rel, problems)
    try:
        split = _split(text)
    except frontmatter.FrontMatterError as exc:
        problems.append(Problem("error", Source(rel, exc.line), exc.message))
        return None
    if split.meta is None:
        problems.append(Problem("info", Source(rel, 1), "no front matter: not a page, not read"))
        return None
    meta = {**_defaults_for(rel, config, collection), **split.meta}
    lines = text.split("\n")[1 : split.body_line - 2]
    page = SitePage(rel, meta, split.body, split.body_line, lines, "", collection)
    page.url = _url(rel, meta, config) if collection is None else _document_url(rel, meta, config, collection)
    return page


def _split(text: str) -> frontmatter.Page:
    """`frontmatter.split`; in a memo session (build --watch), a page whose text is unchanged
    is not parsed again. Its front matter is a fresh copy each time (plain strings, lists and
    dicts), so that nothing one read does to it reaches the next."""
    from cfexport.readers import memo

    page = memo.remember(memo.key("front matter", text), lambda: frontmatter.split(text))
    return frontmatter.Page(_copy(page.meta), page.body, page.body_line) if page.meta else page


def _copy(value):
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _defaults_for(rel: str, config: SiteConfig, collection: str | None = None) -> dict:
    """Front matter the site's `defaults` give this page, or this document of `collection` (later
    entries, and more specific paths, win). A scope's `type` is `pages` or a collection's label."""
    out: dict = {}
    applicable = []
    for scope_path, scope_type, values in config.defaults:
        if scope_type not in (None, "", "pages" if collection is None else collection):
            continue
        if scope_path and not (rel == scope_path or rel.startswith(scope_path + "/")
                               or fnmatch.fnmatchcase(rel, scope_path) or fnmatch.fnmatchcase(rel, scope_path + "/*")):
            continue
        applicable.append((len(scope_path), values))
    for _, values in sorted(applicable, key=lambda a: a[0]):
        out.update(values)
    return out


_PLACEHOLDER = re.compile(r":(collection|path|basename|output_ext|name|title|slug)\b")


def _permalink_suffix(style: str) -> str:
    """Jekyll's add_permalink_suffix: `pretty` and patterns ending in `/` give a folder URL (`/`);
    `date`, `ordinal`, `none` and patterns ending in `:output_ext` give `.html`; other patterns, neither."""
    if style == "pretty" or (style not in ("date", "ordinal", "none") and style.endswith("/")):
        return "/"
    if style in ("date", "ordinal", "none") or style.endswith(":output_ext"):
        return ".html"
    return ""


def _fill(template: str, values: dict) -> str:
    """A permalink with its placeholders filled in (one `values` lacks is left as written), as a
    site path: leading slash, no doubled slashes."""
    url = _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)
    return re.sub(r"/{2,}", "/", "/" + url.lstrip("/"))


def _url(rel: str, meta: dict, config: SiteConfig) -> str:
    """The URL Jekyll gives a page (without baseurl)."""
    folder, name = posixpath.split(rel)
    basename = posixpath.splitext(name)[0]
    explicit = frontmatter.text(meta.get("permalink"))
    values = {"path": folder, "basename": basename, "output_ext": ".html", "name": basename,
              "title": basename, "slug": basename}
    if explicit:
        return _fill(explicit, values)
    if basename == "index":
        return _fill(f"/{folder}/", values)
    return _fill(f"/{folder}/{basename}{_permalink_suffix(config.permalink)}", values)


def _document_url(rel: str, meta: dict, config: SiteConfig, collection: str) -> str:
    """The URL Jekyll gives a document of a collection (without baseurl): its own `permalink`, else
    the collection's, else `/:collection/:path` with the suffix of the site's permalink style
    (`pretty`: `/careers/engineering/level5/`, and `/careers/engineering/index/` for an index)."""
    inside = rel[len(config.collection_folder(collection)) + 1:]
    path, _ = posixpath.splitext(inside)
    name = posixpath.basename(path)
    slug = frontmatter.text(meta.get("slug")) or name
    # Jekyll's UrlDrop: :name and :slug slugified, :title the 'pretty' way with its case kept
    values = {"collection": collection, "path": path, "basename": name, "output_ext": ".html",
              "name": _slugify(name), "title": _slugify(slug, pretty=True, cased=True), "slug": _slugify(slug)}
    template = frontmatter.text(meta.get("permalink")) \
        or frontmatter.text(config.collections.get(collection, {}).get("permalink")) \
        or "/:collection/:path" + _permalink_suffix(config.permalink)
    return _fill(template, values)


_PRETTY_KEPT = frozenset("._~!$&'()+,;=@")


def _slugify(text: str, pretty: bool = False, cased: bool = False) -> str:
    """Jekyll's `Utils.slugify` in its 'default' and 'pretty' modes: every run of characters that are
    not letters, marks or decimal digits (nor, 'pretty', `._~!$&'()+,;=@`) one hyphen, a hyphen at
    either end dropped, lower case unless `cased`."""
    kept = "".join(c if unicodedata.category(c)[0] in "LM" or unicodedata.category(c) == "Nd"
                   or (pretty and c in _PRETTY_KEPT) else "\0" for c in text)
    slug = re.sub("\0+", "-", kept).removeprefix("-").removesuffix("-")
    return slug if cased else slug.lower()
