"""A copy of the Leicestershire profile with a council's own locality names, for tests that
the API's `place`, the household's top unit and the pages follow the profile's declaration."""

from __future__ import annotations

from pathlib import Path

from tests.level_variants import copy_profile, edit_graph, edit_yaml, table


def reshaped_profile(tmp_path: Path) -> Path:
    """The coordinator patch column is `neighbourhood` (its own API name), the top unit is
    the hub (labelled "Hub"); rows, services and rules are otherwise Leicestershire's."""
    folder = copy_profile(tmp_path, "reshaped")
    csv = folder / "localities.csv"
    csv.write_text(csv.read_text(encoding="utf-8").replace(
        "slf_area,lac_patch", "slf_area,neighbourhood"), encoding="utf-8")

    def meta(data):
        data["localities"] = {
            "columns": ["district", "early_help_hub", "slf_area", "neighbourhood"],
            "required": ["district", "early_help_hub", "slf_area"],
            "hierarchy": ["district", "early_help_hub"], "top": "early_help_hub",
            "labels": {"early_help_hub": "Hub"},
            "api_names": {"slf_area": "family_support_area"}}

    def services(data):
        for service in data["services"]:
            if service.get("instance_from") == "lac_patch":
                service["instance_from"] = "neighbourhood"

    def graph(data):
        for column in table(data, "routes")["inputs"]:
            column["field"] = column["field"].replace("within.lac_patch",
                                                      "within.neighbourhood")

    edit_yaml(folder, "profile.yaml", meta)
    edit_yaml(folder, "services.yaml", services)
    edit_graph(folder, graph)
    return folder
