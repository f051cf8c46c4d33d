"""`flask redact`: JSON in, JSON out; bad input named on stderr with exit code 1."""

from __future__ import annotations

import json

from portal.privacy import MAX_CHARS

REQUEST = {"text": "客户徐建华电话15900001234。",
           "parties": [{"role": "client", "name": "徐建华", "aliases": ["Jack Xu"]}]}


def test_one_object_in_one_object_out(runner):
    result = runner.invoke(args=["redact"], input=json.dumps(REQUEST, ensure_ascii=False))
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["text"] == "客户甲电话[电话]。"
    assert answer["replacements"] == [
        {"start": 0, "end": 5, "kind": "person", "label": "客户甲"},
        {"start": 7, "end": 18, "kind": "phone", "label": "[电话]"}]
    assert "客户甲" in result.stdout  # ensure_ascii=False


def test_invalid_json_and_wrong_types_name_the_field(runner):
    cases = {
        "{not json": "invalid JSON",
        "[1, 2]": "JSON object",
        '{"parties": []}': "text is missing",
        '{"text": 5}': "text must be a string",
        '{"text": "x", "parties": {}}': "parties must be a list",
        '{"text": "x", "parties": [{"role": "client"}, {"aliases": "Jack"}]}':
            "parties[1].aliases must be a list of strings",
        '{"text": "x", "parties": [{"name": 3}]}': "parties[0].name must be a string",
        '{"text": "x", "extra": 1}': "unknown field: extra",
    }
    for given, message in cases.items():
        result = runner.invoke(args=["redact"], input=given)
        assert result.exit_code == 1, given
        assert message in result.stderr, (given, result.stderr)
        assert result.stdout == ""


def test_text_over_the_limit_is_refused(runner):
    result = runner.invoke(args=["redact"], input=json.dumps({"text": "a" * (MAX_CHARS + 1)}))
    assert result.exit_code == 1
    assert "limit is 200000" in result.stderr and result.stdout == ""


def test_jsonl_one_line_per_object_with_progress_on_stderr(runner):
    lines = [json.dumps(REQUEST, ensure_ascii=False), "",
             json.dumps({"text": "Mr Xu called on 15 March 2023.",
                         "parties": [{"role": "client", "name": "徐建华"}]})]
    result = runner.invoke(args=["redact", "--jsonl"], input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["text"] for a in answers] == ["客户甲电话[电话]。", "Client A called on March 2023."]
    assert "Redacting" in result.stderr


def test_jsonl_bad_line_reports_its_number_and_writes_nothing(runner):
    good = json.dumps({"text": "王先生"})
    result = runner.invoke(args=["redact", "--jsonl"],
                           input=f"{good}\n{good}\n{{\"text\": [1]}}\n")
    assert result.exit_code == 1
    assert "line 3: text must be a string" in result.stderr
    assert result.stdout == ""
