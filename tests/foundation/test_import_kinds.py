"""The registry of import workbook kinds: processing and approval look a kind up in
``services/pipeline/import_kinds.py``; the pipeline never imports an import service, so the
import services use the pipeline without a circle, and a new kind is one row."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import workbook_engine
from workbook_engine.services.pipeline.import_kinds import IMPORT_KINDS, signed_import
from workbook_engine.workbooks.client_import_sheet import KIND as CLIENT_IMPORT_KIND
from workbook_engine.workbooks.collection_sheet import COLLECTION_SHEET
from workbook_engine.workbooks.setup_import_sheet import SETUP_KINDS

PACKAGE = Path(workbook_engine.__file__).parent


def _imported(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
        elif isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
    return modules


def test_the_pipeline_imports_no_import_service_anywhere() -> None:
    offenders = {path.name: sorted(m for m in _imported(path)
                                   if m.startswith("workbook_engine.services.imports"))
                 for path in (PACKAGE / "services" / "pipeline").glob("*.py")}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_import_services_import_the_pipeline_at_the_top_in_any_order() -> None:
    """No function-level import of the pipeline is left to dodge a circle: each module
    imports first in a fresh interpreter."""
    for module in ("services.imports.setup_import", "services.imports.client_import",
                   "services.imports.common", "services.pipeline.submissions",
                   "services.pipeline.processing"):
        done = subprocess.run([sys.executable, "-c", f"import workbook_engine.{module}"],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, (module, done.stderr[-500:])
    for path in (PACKAGE / "services" / "imports").glob("*.py"):
        tree = ast.parse(path.read_text())
        late = [node.module for fn in ast.walk(tree) if isinstance(fn, ast.FunctionDef)
                for node in ast.walk(fn) if isinstance(node, ast.ImportFrom)
                and (node.module or "").startswith("workbook_engine.services.pipeline")]
        assert late == [], path.name


def test_every_signed_kind_has_one_import_kind_and_its_services() -> None:
    names = [kind.name for kind in SETUP_KINDS.values()] + [CLIENT_IMPORT_KIND]
    for name in names:
        owners = [k for k in IMPORT_KINDS if k.owns(name)]
        assert len(owners) == 1, name
    assert signed_import(COLLECTION_SHEET.name) is None
    for kind in IMPORT_KINDS:
        assert callable(kind.process) and callable(kind.approve)
        assert callable(kind._function(kind.recognises_fn))
