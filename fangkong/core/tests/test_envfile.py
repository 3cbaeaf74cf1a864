import os

from fangkong import envfile


def test_it_loads_values_without_overriding_the_environment(tmp_path, monkeypatch):
    path = tmp_path / "demo.env"
    path.write_text('# comment\nFK_TEST_A=one\nFK_TEST_B="two words"\n\nnot a line\n')
    monkeypatch.setenv("FK_TEST_A", "already")
    monkeypatch.delenv("FK_TEST_B", raising=False)
    monkeypatch.delenv("FANGKONG_ENV", raising=False)
    envfile.load(path)
    assert os.environ["FK_TEST_A"] == "already"
    assert os.environ["FK_TEST_B"] == "two words"
    monkeypatch.delenv("FK_TEST_B")


def test_production_never_reads_the_demo_file(tmp_path, monkeypatch):
    path = tmp_path / "demo.env"
    path.write_text("FK_TEST_C=demo\n")
    monkeypatch.setenv("FANGKONG_ENV", "production")
    monkeypatch.delenv("FK_TEST_C", raising=False)
    assert envfile.load(path) == {}
    assert "FK_TEST_C" not in os.environ


def test_the_file_follows_the_var_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("FANGKONG_VAR_DIR", str(tmp_path))
    assert envfile.demo_env_path() == tmp_path / "demo.env"
