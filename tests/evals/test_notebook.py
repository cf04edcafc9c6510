"""In a real Jupyter kernel an eval report displays as a table (`_repr_html_`)."""

from __future__ import annotations

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")


def test_report_renders_as_an_html_table_in_a_kernel(tmp_path, db_dir):
    source = f"""
import os
os.environ["STAGEAGENT_CACHE_DIR"] = {str(db_dir.parent / "nb-cache")!r}
from stageagent.evals import bundled, evaluate, load_dataset, oracle_model
ds = load_dataset(bundled("sql_shop")).select(["shop_anonymous_sales", "shop_branch_parents"])
report = await evaluate(ds, model=oracle_model(ds, right=lambda c: c.name == "shop_branch_parents"))
report
"""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    outputs = nb.cells[0].outputs
    html = next(o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {}))
    assert "<table>" in html and "50.0%" in html and "shop_anonymous_sales" in html
