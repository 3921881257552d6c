import os
import sys

import pytest

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, HERE)


@pytest.fixture(scope="session")
def registry(tmp_path_factory):
    """A real MLflow registry (SQLite, local artifacts) holding one trained, aliased version."""
    from train_example import train_and_register

    d = tmp_path_factory.mktemp("mlflow")
    old = os.getcwd()
    os.chdir(d)  # the SQLite store puts artifacts under ./mlruns
    try:
        uri = f"sqlite:///{d}/mlflow.db"
        version = train_and_register(uri, "fraud-detection", "champion")
    finally:
        os.chdir(old)
    return {"uri": uri, "dir": str(d), "version": version}
