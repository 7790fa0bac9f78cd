"""The import contracts (tests/architecture/contracts.py) hold for the checkout, and a broken import is caught."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.architecture.contracts import (
    Tree,
    cycle_violations,
    layering_violations,
    parse,
    size_violations,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def checkout() -> Tree:
    return parse(REPO)


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for relpath, text in files.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


# -- the checkout ---------------------------------------------------------------------------------------------------

def test_the_real_folders_are_read_under_their_aftershock_names(checkout: Tree) -> None:
    names = {f.relpath: f.module for f in checkout.files}
    assert names["lab/api.py"] == "aftershock.lab.api"
    assert names["core/__init__.py"] == "aftershock.core"
    assert names["aftershock/cli/run.py"] == "aftershock.cli.run"
    assert not [p for p in names if p.startswith(("aftershock/lab/", "aftershock/core/"))], "links were followed"
    assert "tests/conftest.py" in names and "conftest.py" in names


def test_every_package_imports_only_what_it_may(checkout: Tree) -> None:
    problems = layering_violations(checkout)
    assert not problems, "\n".join(problems)


def test_no_import_circles(checkout: Tree) -> None:
    problems = cycle_violations(checkout)
    assert not problems, "\n".join(problems)


def test_modules_and_functions_stay_small(checkout: Tree) -> None:
    problems = size_violations(checkout)
    assert not problems, "\n".join(problems)


# -- the checker on synthetic trees ---------------------------------------------------------------------------------

def test_core_importing_the_lab_is_reported_with_file_line_import_and_rule(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {
        "core/__init__.py": "",
        "core/x.py": '"""x."""\nimport aftershock.lab.api\n',
        "lab/__init__.py": "",
        "lab/api.py": "",
    })
    assert layering_violations(parse(root)) == [
        "core/x.py:2: aftershock.core.x imports aftershock.lab.api: core may import nothing else of the project",
    ]


def test_relative_and_function_level_imports_are_resolved(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {
        "lab/__init__.py": "",
        "lab/client.py": "",
        "lab/api.py": "",
        "probes/__init__.py": "",
        "probes/slo.py": "",
        "faults/__init__.py": "",
        "faults/aws/__init__.py": "",
        "faults/aws/x.py": """\
            from ...lab import client
            from ...lab import api

            def later():
                from ...probes.slo import measure
                import importlib
                importlib.import_module("aftershock.runner")
            """,
        "aftershock/__init__.py": "",
        "aftershock/runner.py": "",
    })
    rule = "faults may import only aftershock.core, itself and aftershock.lab.client"
    assert layering_violations(parse(root)) == [
        f"faults/aws/x.py:2: aftershock.faults.aws.x imports aftershock.lab.api: {rule}",
        f"faults/aws/x.py:5: aftershock.faults.aws.x imports aftershock.probes.slo: {rule}",
        "faults/aws/x.py:7: aftershock.faults.aws.x imports aftershock.runner: only the orchestration layer, tests "
        "and benchmarks may import the orchestration layer",
    ]


def test_probes_may_not_reach_the_orchestration_layer_through_its_root(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {
        "probes/__init__.py": "",
        "probes/live.py": "def f():\n    from aftershock import session\n",
        "aftershock/__init__.py": "",
        "aftershock/session.py": "",
    })
    assert layering_violations(parse(root)) == [
        "probes/live.py:2: aftershock.probes.live imports aftershock.session: only the orchestration layer, tests and "
        "benchmarks may import the orchestration layer",
    ]


def test_old_top_level_names_are_reported_everywhere(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {
        "tests/test_x.py": "import lab.api\n",
        "benchmarks/b.py": "from faults import actions\n",
        "conftest.py": "from aftershock.lab import api\n",
        "aftershock/cli.py": "from reports.model import Report\n",
    })
    rule = "the old top-level names are gone: import aftershock.{} instead"
    assert layering_violations(parse(root)) == [
        f"aftershock/cli.py:1: aftershock.cli imports reports.model: {rule.format('reports.model')}",
        f"benchmarks/b.py:1: benchmarks.b imports faults: {rule.format('faults')}",
        f"tests/test_x.py:1: tests.test_x imports lab.api: {rule.format('lab.api')}",
    ]


def test_links_under_aftershock_are_not_read_twice(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"lab/__init__.py": "", "lab/api.py": "", "aftershock/__init__.py": ""})
    (root / "aftershock" / "lab").symlink_to("../lab")
    assert sorted(f.relpath for f in parse(root).files) == ["aftershock/__init__.py", "lab/__init__.py", "lab/api.py"]


def test_a_circle_between_modules_of_one_package_is_reported(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {
        "lab/__init__.py": "",
        "lab/a.py": "def f():\n    from . import b\n",
        "lab/b.py": "from aftershock.lab.c import C\n",
        "lab/c.py": "from aftershock.lab.a import f\n",
    })
    assert cycle_violations(parse(root)) == [
        "lab/a.py:2: aftershock.lab.a imports aftershock.lab.b: no import circle between the modules of lab: "
        "aftershock.lab.a -> aftershock.lab.b -> aftershock.lab.c -> aftershock.lab.a",
    ]


def test_a_circle_between_packages_is_reported(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {
        "lab/__init__.py": "",
        "lab/x.py": "from aftershock.reports import y\n",
        "reports/__init__.py": "",
        "reports/y.py": "import aftershock.lab.x\n",
    })
    tree = parse(root)
    assert cycle_violations(tree) == [
        "lab/x.py:1: aftershock.lab.x imports aftershock.reports.y: no import circle between packages: "
        "lab -> reports -> lab",
    ]
    assert len(layering_violations(tree)) == 2


def test_long_functions_need_a_reason(tmp_path: Path) -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(60))
    root = write_tree(tmp_path, {
        "core/__init__.py": "",
        "core/long.py": f"def plain():\n{body}\n\n# long: one table of literals\n@staticmethod\ndef table():\n{body}",
        "core/big.py": "x = 1\n" * 401,
    })
    assert size_violations(parse(root)) == [
        "core/big.py:1: aftershock.core.big has 401 lines: a module has at most 400 lines unless a '# long: <why>' "
        "comment in its first 10 lines says why",
        "core/long.py:1: aftershock.core.long.plain has 61 lines: a function has at most 60 lines unless a "
        "'# long: <why>' comment on or above its def line says why",
    ]


def test_test_modules_have_unique_names() -> None:
    """The test folders are not packages: two test files of one name would collide when pytest imports them."""
    names = sorted(p.name for p in (REPO / "tests").rglob("test_*.py"))
    assert sorted({n for n in names if names.count(n) > 1}) == []
