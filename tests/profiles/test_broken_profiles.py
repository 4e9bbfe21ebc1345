"""A council officer's mistakes: a profile broken in one way each gets `triage rules check`
(and `rules test`) exit status 1 with a named problem (the file and what is wrong), never a
traceback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.level_variants import copy_profile, edit_graph, edit_yaml
from triage.cli import main as cli


def _node(graph: dict, node_id: str) -> dict:
    return next(n for n in graph["nodes"] if n["id"] == node_id)


def unknown_level_code(folder: Path) -> None:
    def change(graph):
        rule = _node(graph, "level")["content"]["rules"][0]
        rule["level_o0"] = "'5'"
    edit_graph(folder, change)


def level_row_reads_an_undefined_fact(folder: Path) -> None:
    def change(graph):
        content = _node(graph, "level")["content"]
        content["inputs"].append({"id": "level_i9", "name": "Pets", "field": "pets_in_home"})
        for rule in content["rules"]:
            rule["level_i9"] = ""
        content["rules"][0]["level_i9"] = ">= 1"
    edit_graph(folder, change)


def step_up_level_not_a_level(folder: Path) -> None:
    edit_yaml(folder, "profile.yaml", lambda d: d.update(step_up_level="4x"))


def levels_as_a_mapping(folder: Path) -> None:
    edit_yaml(folder, "profile.yaml",
              lambda d: d.update(levels={lv["code"]: lv["name"] for lv in d["levels"]}))


def duplicate_level_code(folder: Path) -> None:
    edit_yaml(folder, "profile.yaml", lambda d: d["levels"].append(dict(d["levels"][0])))


def question_of_an_unknown_kind(folder: Path) -> None:
    def change(d):
        d["sections"][1]["questions"][0]["kind"] = "urgentish"
    edit_yaml(folder, "checklist.yaml", change)


def service_instance_from_a_missing_column(folder: Path) -> None:
    def change(d):
        service = next(s for s in d["services"] if s.get("instance_from"))
        service["instance_from"] = "ward"
    edit_yaml(folder, "services.yaml", change)


def locality_row_naming_an_unknown_instance(folder: Path) -> None:
    path = folder / "localities.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    cells = lines[1].split(",")
    cells[2] = "nowhere-hub"          # the row's Early Help Hub, which no service has
    lines[1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def malformed_postcode_sector(folder: Path) -> None:
    path = folder / "localities.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    cells = lines[2].split(",")
    cells[0] = "LEICS 9"
    lines[2] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def example_expecting_an_unknown_level(folder: Path) -> None:
    def change(d):
        d["examples"][0]["expected"]["level"] = "9"
    edit_yaml(folder, "examples.yaml", change)


def pathway_event_to_an_unknown_state(folder: Path) -> None:
    def change(d):
        pathway = next(iter(d["pathways"].values())) if isinstance(d["pathways"], dict) \
            else d["pathways"][0]
        event = next(iter(pathway["events"].values())) if isinstance(pathway["events"], dict) \
            else pathway["events"][0]
        event["to"] = "limbo"
    edit_yaml(folder, "pathways.yaml", change)


def a_file_that_is_not_yaml(folder: Path) -> None:
    (folder / "services.yaml").write_text("services: [unclosed\n", encoding="utf-8")


BROKEN: list[tuple[Callable[[Path], None], str]] = [
    (unknown_level_code, "5"),
    (level_row_reads_an_undefined_fact, "pets_in_home"),
    (step_up_level_not_a_level, "4x"),
    (levels_as_a_mapping, "levels"),
    (duplicate_level_code, "levels"),
    (question_of_an_unknown_kind, "urgentish"),
    (service_instance_from_a_missing_column, "ward"),
    (locality_row_naming_an_unknown_instance, "nowhere-hub"),
    (malformed_postcode_sector, "LEICS 9"),
    (example_expecting_an_unknown_level, "9"),
    (pathway_event_to_an_unknown_state, "limbo"),
    (a_file_that_is_not_yaml, "services.yaml"),
]


@pytest.mark.parametrize(("break_it", "named"), BROKEN, ids=[b.__name__ for b, _ in BROKEN])
def test_a_broken_profile_gets_a_named_problem_and_exit_status_1(tmp_path, break_it, named):
    folder = copy_profile(tmp_path)
    break_it(folder)
    result = CliRunner().invoke(cli, ["rules", "check", "--profile", str(folder)])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"a traceback instead of a named problem: {result.exception!r}")
    assert "error:" in result.output and named in result.output, result.output
