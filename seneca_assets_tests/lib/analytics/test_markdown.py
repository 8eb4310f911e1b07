"""The summaries' markdown tables keep their shape whatever the data holds."""

from seneca_assets.lib.analytics.markdown import markdown_table, share


def test_a_pipe_or_a_line_break_in_a_value_does_not_break_the_table():
    lines = markdown_table(["metric", "tags"], [("a|b", '{"k":"x\ny"}'), (None, 3)])
    assert lines == [
        "",
        "| metric | tags |",
        "|---|---|",
        '| a\\|b | {"k":"x y"} |',
        "|  | 3 |",
    ]
    assert (share(None), share(0.5), share(0.1234, 1)) == ("", "50%", "12.3%")
