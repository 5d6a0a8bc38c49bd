"""The one level-to-level comparison, shared by role descriptions and promotion packs."""

from __future__ import annotations

from cfexport.compare import compare, next_role
from cfexport.model import Role, Source, Statement


def _roles(shipped, spec="ML Engineer", a=5, b=6):
    craft = shipped.crafts[0]
    return Role(craft, spec, craft.level(a)), Role(craft, spec, craft.level(b))


def test_ml_engineer_5_to_6_as_the_pages_say(shipped):
    changes = {c.area_title: c for c in compare(*_roles(shipped))}
    # golden values read off framework/mlengineer/level5.md and level6.md by hand
    ml_ops = changes["ML Ops"]
    assert [c.kind for c in ml_ops.changes] == ["same", "new"]
    assert ml_ops.added[0].statement.text.startswith("I deploy and monitor ML systems in the cloud")
    assert [s.text[:30] for s in ml_ops.dropped] == ["I have an awareness of the clo"]
    assert [c.kind for c in changes["AI Strategy"].changes] == ["same", "same"]
    assert not changes["AI Strategy"].differs
    arch = changes["Architecture Design"]
    assert arch.current_todo and not arch.target_todo and arch.now_defined and not arch.new_area
    assert changes["Technical Strategy"].target_todo and not changes["Technical Strategy"].added
    assert "Edge Computing" not in changes
    ml = changes["Machine Learning and Deep Learning"]
    assert [c.kind for c in ml.changes] == ["same", "new", "new"]


def test_reworded_statements_are_changed_with_their_previous_wording():
    from cfexport.compare import match_statements

    src = Source("x.md", 1)
    before = (Statement("I analyse and present datasets with simple methods.", src),)
    after = (Statement("I analyse and present datasets with appropriate statistical methods.", src),
             Statement("I coach others.", src))
    changes, dropped = match_statements(before, after)
    assert [c.kind for c in changes] == ["changed", "new"]
    assert changes[0].previous == before[0] and dropped == ()


def test_long_statements_compare_without_blowing_up():
    from cfexport.compare import match_statements

    src = Source("x.md", 1)
    long = "word " * 7000
    changes, _ = match_statements((Statement(long, src),), (Statement(long + "more", src),))
    assert changes[0].kind == "changed"


def test_next_role_is_one_level_up_and_none_at_the_top(shipped):
    craft = shipped.crafts[0]
    assert next_role(Role(craft, "ML Engineer", craft.level(5))).level.number == 6
    assert next_role(Role(craft, "ML Engineer", craft.level(8))) is None


def test_a_repeated_statement_is_never_taken_by_a_rewording_of_it():
    from cfexport.compare import match_statements

    src = Source("x.md", 1)
    before = (Statement("I write unit tests for my code.", src),)
    after = (Statement("I write unit tests for my code and review others.", src),
             Statement("I write unit tests for my code.", src))
    changes, dropped = match_statements(before, after)
    assert [c.kind for c in changes] == ["new", "same"] and dropped == ()


def test_rewordings_pair_best_match_first():
    from cfexport.compare import match_statements

    src = Source("x.md", 1)
    before = (Statement("I review the designs of my team.", src), Statement("I design small services.", src))
    after = (Statement("I design small and large services.", src),
             Statement("I review the designs of my team and other teams.", src))
    changes, _ = match_statements(before, after)
    assert [(c.kind, c.previous.text) for c in changes] == [
        ("changed", "I design small services."), ("changed", "I review the designs of my team.")]
