"""`sifa modules check` and start-up with broken definitions (src/cli/commands.c, src/model/loader.c)."""

import re
import shutil
import sqlite3
import subprocess

from conftest import REPO_ROOT, SANITIZER_MARKERS, free_port, init_db, server_env, sifa_bin


def run(args, cwd=REPO_ROOT, timeout=30):
    r = subprocess.run([sifa_bin()] + args, cwd=str(cwd), capture_output=True, text=True, env=server_env(),
                       timeout=timeout)
    for marker in SANITIZER_MARKERS:
        assert marker not in r.stderr, r.stderr
    return r


def position(text, line_contains, needle):
    """1-based line and column (in characters) of needle on the first line containing line_contains."""
    for n, line in enumerate(text.splitlines(), 1):
        if line_contains in line:
            return n, line.index(needle) + 1
    raise AssertionError("no line with %r" % line_contains)


def broken_modules(tmp_path):
    d = tmp_path / "modules"
    shutil.copytree(REPO_ROOT / "modules", d)
    path = d / "mediation_case.yaml"
    text = path.read_text(encoding="utf-8")
    summary = "{code: summary, name: 纠纷简要情况, type: longtext, searchable: true}"
    reopen = "{code: reopen, name: 重新调解, from: [concluded], to: accepted}"
    assert summary in text and reopen in text
    text = text.replace(summary, summary.replace("type: longtext", "type: memo"))
    text = text.replace(reopen, reopen.replace("to: accepted", "to: reopened"))
    path.write_text(text, encoding="utf-8")
    type_at = position(text, "code: summary", "memo")
    state_at = position(text, "code: reopen", "reopened")
    return d, path, type_at, state_at


def test_check_accepts_the_shipped_definitions():
    r = run(["modules", "check", "modules"])
    assert r.returncode == 0, r.stderr
    modules = len(list((REPO_ROOT / "modules").glob("*.yaml")))
    codes = len(list((REPO_ROOT / "modules" / "codes").glob("*.yaml")))
    m = re.fullmatch(r"sifa: 业务定义检查通过 ok: (\d+) 个模块 modules, (\d+) 个字段 fields, (\d+) 个代码表 code tables, "
                     r"(\d+) 个指标 indicators, (\d+) 张统计表 tables\n", r.stdout)
    assert m, r.stdout
    assert int(m.group(1)) == modules and int(m.group(3)) == codes
    assert int(m.group(4)) >= 30 and int(m.group(5)) >= 2  # indicators/ beside modules/ is checked too
    r = run(["modules", "check"])              # the default directories are ./modules and ./indicators
    assert r.returncode == 0 and r.stdout == m.group(0)


def test_check_reports_indicator_errors_with_their_position(tmp_path):
    shutil.copytree(REPO_ROOT / "modules", tmp_path / "modules")
    shutil.copytree(REPO_ROOT / "indicators", tmp_path / "indicators")
    path = tmp_path / "indicators" / "mediation.yaml"
    text = path.read_text(encoding="utf-8").replace("    field: amount\n", "    field: amount_typo\n", 1)
    path.write_text(text, encoding="utf-8")
    line, column = position(text, "field: amount_typo", "amount_typo")
    r = run(["modules", "check", str(tmp_path / "modules")])
    assert r.returncode == 1, r.stdout
    assert "%s:%d:%d: " % (path, line, column) in r.stderr, r.stderr
    assert "[unknown_field]" in r.stderr
    r = run(["modules", "check", str(tmp_path / "modules"), str(tmp_path / "nowhere")])
    assert r.returncode == 1 and "indicators_missing" in r.stderr


def test_check_reports_every_error_with_its_position(tmp_path):
    d, path, type_at, state_at = broken_modules(tmp_path)
    r = run(["modules", "check", str(d)])
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert "%s:%d:%d: " % ((path,) + type_at) in r.stderr, r.stderr
    assert "%s:%d:%d: " % ((path,) + state_at) in r.stderr, r.stderr
    type_line = next(l for l in lines if l.startswith("%s:%d:%d: " % ((path,) + type_at)))
    state_line = next(l for l in lines if l.startswith("%s:%d:%d: " % ((path,) + state_at)))
    assert type_line.endswith("[unknown_type]") and '"memo"' in type_line
    assert state_line.endswith("[unknown_state]") and '"reopened"' in state_line
    assert lines[-1] == "sifa: 2 处错误 (2 errors)", r.stderr
    assert len(lines) == 3, r.stderr

    # a missing directory and bad usage
    r = run(["modules", "check", str(tmp_path / "nowhere")])
    assert r.returncode == 1 and r.stderr
    r = run(["modules", "lint"])
    assert r.returncode == 2 and "sifa modules check" in r.stderr


def test_serve_refuses_broken_definitions(tmp_path, sifa):
    d, path, type_at, state_at = broken_modules(tmp_path)
    db = tmp_path / "sifa.db"
    init_db(db)
    args = ["serve", "--db", str(db), "--listen", "127.0.0.1:%d" % free_port(),
            "--access_log", str(tmp_path / "access.log"), "--backup_dir", str(tmp_path / "backups"),
            "--web_root", str(tmp_path / "web"), "--modules_dir", str(d),
            "--holidays_dir", str(REPO_ROOT / "data" / "holidays"), "--threads", "2"]
    r = run(args, cwd=tmp_path, timeout=30)
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert "服务已启动" not in r.stderr
    assert "%s:%d:%d: " % ((path,) + type_at) in r.stderr, r.stderr
    assert "%s:%d:%d: " % ((path,) + state_at) in r.stderr, r.stderr
    assert "[unknown_type]" in r.stderr and "[unknown_state]" in r.stderr
    # the database was not touched: the module tables were never created
    with sqlite3.connect(str(db)) as con:
        tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert not any(t.startswith("m_") for t in tables), tables

    # the same database serves fine with the shipped definitions
    server = sifa.start(db=str(db), name="good")
    assert "mediation_case create_table" in server.stderr()
    assert server.get("/api/v1/modules/mediation_case").status_code == 200
