"""`risk demo` prepares the web app: the last simulated day scored through the service, a demo analyst login."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

import cli.serve
from cli.main import main
from cli.progress import Progress
from cli.simulate import simulate_to
from risk.datasets import read_orders
from tests.serve.conftest import train_model


@pytest.fixture(scope="module")
def demo_model(tmp_path_factory):
    return train_model(tmp_path_factory.mktemp("model"), seed=5)


def test_the_demo_scores_the_last_day_and_its_printed_login_opens_the_queue(demo_model, tmp_path, monkeypatch,
                                                                            capsys):
    simulate_to(tmp_path / "data", 4_000, days=10, seed=7, fmt="parquet", progress=Progress())
    pages = {}

    def open_the_web_app(app, listener) -> None:  # instead of uvicorn: what a new user does with the printed login
        listener.close()
        printed = capsys.readouterr().out
        name, password = re.search(r"login: (\S+), password: (\S+)\)", printed).groups()
        pages["printed"] = printed
        with TestClient(app) as client:
            form = client.get("/ui/login").text
            token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
            pages["queue"] = client.post("/ui/login", data={"username": name, "password": password,
                                                            "csrf_token": token})

    monkeypatch.setattr("cli.demo.build_model", lambda folder, n_orders: demo_model)
    monkeypatch.setattr(cli.serve, "run_server", open_the_web_app)

    assert main(["demo", "--out", str(tmp_path), "--port", "0"]) == 0

    orders = read_orders(tmp_path / "data" / "orders.parquet")
    last_day = int((orders["created_at"] >= orders["created_at"].max().floor("D")).sum())
    scored, in_review = map(lambda n: int(n.replace(",", "")),
                            re.search(r"([\d,]+) orders of the last simulated day scored, ([\d,]+) waiting",
                                      pages["printed"]).groups())
    assert scored == last_day
    assert pages["queue"].status_code == 200 and "/ui/queue" in str(pages["queue"].url)
    assert f"Review queue <span class=\"muted\">{in_review} open" in pages["queue"].text
