"""The one comment-keeping YAML editor (`turnout.config.YamlEditor`), used for route files,
learned compare rules and the demo's copy of turnout.yaml."""

from __future__ import annotations

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from turnout.config import YamlEditor

ROUTES = """\
# Which path each operation takes.
upstream: 'http://bus:8000'   # quoted as written
routes:
    "/geo ResolveLocation": {mode: shadow}
    "/pnc PersonEnquiry":
        mode: legacy          # a comment on the line
# /cris CreateCrimeReport: {mode: translator}   kept for later
# end of routes
"""


def test_a_file_nobody_edited_comes_back_as_it_was() -> None:
    assert YamlEditor(ROUTES).text() == ROUTES


def test_an_added_entry_goes_above_the_comment_lines_that_closed_the_block() -> None:
    editor = YamlEditor(ROUTES, indent_sequences=False)
    editor.keep_tail(editor.doc)
    routes = editor.doc["routes"]
    editor.keep_tail(routes)
    routes["/cris GetCrimeReport"] = CommentedMap(mode="translator")
    routes["/pnc PersonEnquiry"]["mode"] = "shadow"
    assert editor.text() == ROUTES.replace("mode: legacy  ", "mode: shadow  ").replace(
        "# /cris Create", '    /cris GetCrimeReport:\n        mode: translator\n# /cris Create'
    )


def test_comment_lines_after_a_list_stay_after_its_new_last_item() -> None:
    text = "default:\n  ignore:\n    - //a\n    - //b\n  # more to come\nother: 1\n"
    editor = YamlEditor(text)
    entries = editor.doc["default"]["ignore"]
    assert isinstance(entries, CommentedSeq)
    editor.keep_tail(entries)
    entries.append("//c")
    assert editor.text() == text.replace("    - //b\n", "    - //b\n    - //c\n")


def test_a_new_list_is_laid_out_as_the_caller_asks_when_the_file_has_none() -> None:
    text = "routes:\n  /pnc X:\n    mode: legacy\n"
    for indented, expected in ((True, "    history:\n      - at\n"), (False, "    history:\n    - at\n")):
        editor = YamlEditor(text, indent_sequences=indented)
        editor.doc["routes"]["/pnc X"]["history"] = CommentedSeq(["at"])
        assert editor.text() == text + expected


def test_an_empty_file_is_an_empty_mapping_to_fill() -> None:
    editor = YamlEditor("")
    editor.doc["ignore"] = CommentedSeq(["//a"])
    assert editor.text() == "ignore:\n  - //a\n"
