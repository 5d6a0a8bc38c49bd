"""The facts of a round, per pack: what round-summary.json holds and the workbook shows."""

from __future__ import annotations

from cfexport.collect.inputs import Skipped
from cfexport.collect.match import PackReturn
from cfexport.collect.provenance import PROMOTION_CASE, SELF_ASSESSMENT

STATUSES = ("returned", "missing", "partial", "unreadable", "edited")
NAMES = {SELF_ASSESSMENT: "self-assessment", PROMOTION_CASE: "promotion case"}


def _problem(kind: str, message: str, file: str | None = None, statement: str | None = None) -> dict:
    return {"kind": kind, "file": file, "statement": statement, "message": message}


def pack_facts(pack: PackReturn, ratings: tuple[str, ...], version: str | None,
               current_statements: dict[str, str] | None) -> dict:
    """One pack's entry of round-summary.json. `version` is the round's framework version
    (None: not known); `current_statements` the framework's statement ids and text hashes
    when --framework was given."""
    sa, case = pack.chosen(SELF_ASSESSMENT), pack.chosen(PROMOTION_CASE)
    chosen = [d for d in (sa, case) if d is not None]
    problems: list[dict] = []
    files = []
    for kind in (SELF_ASSESSMENT, PROMOTION_CASE):
        for doc in pack.copies.get(kind, []):
            files.append({"path": doc.where, "document": kind, "used": doc is pack.chosen(kind),
                          "modified": doc.modified.strftime("%Y-%m-%dT%H:%M:%SZ") if doc.modified else None})
    if not chosen:
        problems.append(_problem("not returned", "no document of this pack came back"))
    elif pack.expected is False:
        problems.append(_problem("not in the round", "this pack is not in the round's index (--round)",
                                 chosen[0].where))
    for doc in chosen:
        if doc.error:
            problems.append(_problem("unreadable", f"the {NAMES[doc.kind]} {doc.error}", doc.where))
        for note in doc.notes:
            problems.append(_problem("content", note, doc.where))
        made = doc.record.get("framework_version")
        if version and made != version:
            changed = ""
            if current_statements is not None:
                moved = [s["id"] for s in doc.record["statements"]
                         if current_statements.get(s["id"]) != s["sha256"]]
                changed = f"; {len(moved)} of its statement(s) differ in the framework now" if moved else ""
            problems.append(_problem("other version", f"made from framework version {made}; the round is version "
                                     f"{version} (statements matched by id{changed})", doc.where))
    if chosen and sa is None:
        problems.append(_problem("not returned", "the self-assessment did not come back"))
    if chosen and case is None:
        problems.append(_problem("not returned", "the promotion case did not come back"))

    record = (sa or case).record if chosen else None
    statements = record["statements"] if record else []
    areas_rec = record["areas"] if record else []
    rated = sa.rated if sa and not sa.error else {}
    counts = {who: {r: 0 for r in ratings} for who in ("self", "manager")}
    for r in rated.values():
        for who in ("self", "manager"):
            label = getattr(r, who)
            if label in counts[who]:
                counts[who][label] += 1
    edited = list(sa.edited) if sa and not sa.error else []
    unknown = list(sa.unknown) if sa and not sa.error else []
    for e in edited:
        problems.append(_problem("edited statement", f"statement {e['no']} ({e['id']}) was edited to: {e['text']!r}",
                                 sa.where, e["id"]))
    for u in unknown:
        problems.append(_problem("unknown rating", f"statement {u['no']}: the {u['who']} rating {u['value']!r} is not "
                                 f"one of: {', '.join(ratings)}", sa.where, u["id"]))
    if sa and not sa.error:
        for sid in sa.missing:
            problems.append(_problem("missing statement", f"the statement {sid} is not in the file (row deleted?)",
                                     sa.where, sid))
    top = ratings[-1] if ratings else None
    new = [s for s in statements if s["new"] in ("new", "changed")]
    evidence = case.evidence if case and not case.error else {}
    areas = []
    for a in areas_rec:
        ids = [s["id"] for s in statements if s["area"] == a["id"]]
        area = {"id": a["id"], "title": a["title"], "statements": len(ids),
                "self": {r: sum(1 for i in ids if i in rated and rated[i].self == r) for r in ratings},
                "manager": {r: sum(1 for i in ids if i in rated and rated[i].manager == r) for r in ratings},
                "evidence_rows": evidence.get(a["id"], 0)}
        areas.append(area)
    status = _status(pack, sa, case, chosen, edited, statements, rated)
    return {
        "pack_id": pack.pack_id, "person": pack.person, "manager": pack.manager, "role": pack.role,
        "role_title": pack.role_title, "current_level": pack.current, "target_level": pack.target,
        "status": status, "expected": pack.expected,
        "framework_version": record.get("framework_version") if record else None,
        "files": files,
        "statements": len(statements),
        "ratings": counts,
        "not_rated": {who: len(statements) - sum(counts[who].values()) for who in ("self", "manager")},
        "top_share": (round(counts["manager"].get(top, 0) / len(statements), 4)
                      if statements and sa and not sa.error else None),
        "new_at_target": len(new),
        "new_rated": sum(1 for s in new if s["id"] in rated and rated[s["id"]].manager),
        "evidence_rows": sum(evidence.values()),
        "areas": areas,
        "summary": _filled_in(case.summary, pack.manager) if case and not case.error else {},
        "edited_statements": edited,
        "unknown_ratings": unknown,
        "problems": problems,
    }


def _filled_in(summary: dict[str, str], manager: str | None) -> dict[str, str]:
    """The manager's summary as written: the row cfexport filled in itself (the manager's name)
    is not part of it."""
    prefilled = " ".join((manager or "").split())
    return {k: v for k, v in summary.items() if not prefilled or " ".join(v.split()) != prefilled}


def _status(pack, sa, case, chosen, edited, statements, rated) -> str:
    if not chosen:
        return "missing"
    if any(d.error for d in chosen):
        return "unreadable"
    if edited:
        return "edited"
    complete = sa is not None and case is not None and not sa.missing and all(
        s["id"] in rated and rated[s["id"]].self and rated[s["id"]].manager for s in statements)
    return "returned" if complete else "partial"


def skipped_problem(s: Skipped) -> dict:
    return _problem(s.kind, s.reason, s.where)


def round_facts(packs: list[PackReturn], skipped: list[Skipped], ratings: tuple[str, ...], version: str | None,
                current_statements: dict[str, str] | None, round_dir: str | None) -> dict:
    facts = [pack_facts(p, ratings, version, current_statements) for p in packs]
    return {
        "round": round_dir,
        "framework_version": version,
        "ratings": list(ratings),
        "counts": {s: sum(1 for f in facts if f["status"] == s) for s in STATUSES},
        "packs": facts,
        "problems": [skipped_problem(s) for s in skipped],
    }


def all_problems(facts: dict) -> list[dict]:
    """Every problem of the round, each with its person (None for a file that is no pack's)."""
    out = [{**p, "person": None, "pack_id": None} for p in facts["problems"]]
    for pack in facts["packs"]:
        out += [{**p, "person": pack["person"], "pack_id": pack["pack_id"]} for p in pack["problems"]]
    return out
