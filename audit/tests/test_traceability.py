"""The traceability scanner itself finds what it must, and flags what it must."""

from __future__ import annotations

from pathlib import Path

from driftvakt.traceability import trace


def _project(tmp_path: Path, tasks: str, check: str) -> Path:
    (tmp_path / "roles/demo/tasks").mkdir(parents=True)
    (tmp_path / "roles/demo/tasks/main.yml").write_text(tasks)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests/test_demo.py").write_text(check)
    return tmp_path


def test_finds_named_tagged_tasks_inside_blocks_and_marked_checks(tmp_path: Path) -> None:
    project = _project(
        tmp_path,
        "- name: Outer\n  block:\n    - name: demo_ctl | Do it\n      tags: [demo, demo_ctl]\n",
        'import pytest\n@pytest.mark.control("demo_ctl")\ndef test_x(host):\n    pass\n',
    )
    found = trace(project)
    assert found.task_tags == {"demo_ctl": ["roles/demo/tasks/main.yml"]}
    assert found.checks == {"demo_ctl": ["test_demo.py"]}
    assert found.untagged == []


def test_flags_a_task_named_for_a_control_without_its_tag(tmp_path: Path) -> None:
    project = _project(tmp_path, "- name: demo_ctl | Do it\n  tags: [demo]\n", "")
    found = trace(project)
    assert found.untagged == ["roles/demo/tasks/main.yml: demo_ctl | Do it"]
    assert "demo_ctl" not in found.task_tags


def test_tells_windows_checks_from_linux_checks_in_one_module(tmp_path: Path) -> None:
    check = (
        "import pytest\n"
        '@pytest.mark.control("demo_ctl")\ndef test_linux(host):\n    pass\n'
        '@pytest.mark.windows\n@pytest.mark.control("demo_ctl")\ndef test_windows(host):\n'
        "    pass\n"
    )
    found = trace(_project(tmp_path, "[]\n", check))
    assert found.checks == {"demo_ctl": ["test_demo.py", "test_demo.py"]}
    assert found.windows_checks == {"demo_ctl": ["test_demo.py"]}
