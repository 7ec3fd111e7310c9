"""`purgesim export`: the cascade of a run as GraphML and Parquet edges."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import networkx as nx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import purgesim as ps
from purgesim.cli import app
from purgesim.export import NODE_ATTRIBUTES, write_graphml

runner = CliRunner()
NS = "{http://graphml.graphdrawing.org/xmlns}"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "run"
    ps.run("great-terror", scale=2000, seed=1).write(out, meta={"run_id": "abc"})
    return out


@pytest.fixture(scope="module")
def exported(run_dir, tmp_path_factory):
    where = tmp_path_factory.mktemp("exported")
    graph, edges = where / "cascade.graphml", where / "edges.parquet"
    result = runner.invoke(app, ["export", str(run_dir), "--graph", str(graph),
                                 "--edges", str(edges)])
    assert result.exit_code == 0, result.output
    return result, graph, edges


def test_graph_has_a_node_per_arrest_and_an_edge_per_parent(run_dir, exported):
    result, graph, _ = exported
    events = pq.read_table(run_dir / "events.parquet")
    persons = events.column("person").to_pylist()
    parents = events.column("parent").to_pylist()
    with_parent = [(p, c) for p, c in zip(parents, persons, strict=True) if p is not None]
    assert with_parent, "a run at 1:2000 names some accomplices"
    g = nx.read_graphml(graph)
    assert isinstance(g, nx.DiGraph) and g.is_directed()
    assert g.number_of_edges() == len(with_parent)
    assert {(int(a), int(b)) for a, b in g.edges()} == set(with_parent)
    arrested = {int(n) for n, d in g.nodes(data=True) if d["arrested"]}
    assert arrested == set(persons)
    never_arrested = {p for p, _ in with_parent} - set(persons)
    assert g.number_of_nodes() == len(persons) + len(never_arrested)
    assert f"{g.number_of_nodes():,} people" in result.stdout
    assert g.graph["scenario"] == "great-terror" and g.graph["seed"] == 1
    assert g.graph["run_id"] == "abc"


def test_node_and_edge_attributes_match_the_events(run_dir, exported):
    _, graph, _ = exported
    events = pq.read_table(run_dir / "events.parquet").to_pylist()
    g = nx.read_graphml(graph)
    for row in events[:: max(1, len(events) // 200)]:
        node = g.nodes[str(row["person"])]
        for name in ("week", "region", "occupation", "source", "operation", "guilty",
                     "generation", "tortured", "confessed", "weight"):
            assert node[name] == row[name], name
        assert node.get("sentence") == row["sentence"]  # absent while pending
        assert node["date"] == str(row["date"])
        if row["parent"] is not None:
            edge = g.edges[str(row["parent"]), str(row["person"])]
            assert edge == {"week": row["week"], "via": row["source"]}


def test_graphml_is_plain_xml_with_declared_keys(exported):
    _, graph, _ = exported
    root = ET.parse(graph).getroot()
    assert root.tag == f"{NS}graphml"
    node_keys = {k.get("attr.name") for k in root.iter(f"{NS}key") if k.get("for") == "node"}
    assert node_keys == {name for name, _ in NODE_ATTRIBUTES}
    (g,) = root.iter(f"{NS}graph")
    assert g.get("edgedefault") == "directed"


def test_parquet_edges(run_dir, exported):
    _, graph, edges = exported
    table = pq.read_table(edges)
    assert table.column_names == ["source", "target", "week", "via"]
    events = pq.read_table(run_dir / "events.parquet")
    assert table.num_rows == events.column("parent").drop_null().length()
    assert table.num_rows == nx.read_graphml(graph).number_of_edges()
    assert table.column("source").null_count == 0


def test_a_parent_never_arrested_is_a_node_too(tmp_path):
    events = pa.table({
        "person": [1, 2, 3], "parent": [None, 1, 99], "week": [0, 1, 2],
        "date": ["1937-01-04"] * 3, "region": ["RSFSR"] * 3, "occupation": ["worker"] * 3,
        "source": ["card_file", "named", "denunciation"], "operation": ["ordinary"] * 3,
        "sentence": ["cat1", None, "cat2"], "guilty": [False] * 3, "generation": [0, 1, 1],
        "tortured": [True, False, False], "confessed": [True, False, False],
        "weight": [100] * 3,
    })
    path = tmp_path / "g.graphml"
    assert write_graphml(events, path, {"scenario": "<&>"}) == (4, 2)
    g = nx.read_graphml(path)
    assert g.nodes["99"] == {"arrested": False}
    assert "sentence" not in g.nodes["2"] and g.nodes["3"]["sentence"] == "cat2"
    assert g.edges["99", "3"]["via"] == "denunciation"
    assert g.graph["scenario"] == "<&>"


def test_export_refusals(tmp_path, run_dir):
    result = runner.invoke(app, ["export", str(run_dir)])
    assert result.exit_code == 2 and "--graph" in result.stderr
    result = runner.invoke(app, ["export", str(tmp_path), "--graph", str(tmp_path / "g.xml")])
    assert result.exit_code == 2 and "events.parquet" in result.stderr
    assert not (tmp_path / "g.xml").exists()


def test_a_person_twice_is_refused(tmp_path, run_dir):
    import shutil

    events = pq.read_table(run_dir / "events.parquet")
    shutil.copytree(run_dir, tmp_path / "twice")  # a whole run folder, but for its events
    pq.write_table(pa.concat_tables([events, events.slice(0, 1)]),
                   tmp_path / "twice" / "events.parquet")
    result = runner.invoke(app, ["export", str(tmp_path / "twice"), "--edges",
                                 str(tmp_path / "e.parquet")])
    assert result.exit_code == 2 and "more than one row" in result.stderr
