# ruff: noqa: E501  (captured configuration is quoted verbatim)
"""The pure parsers of tests/test_logging.py, on captured rsyslog and auditd configuration."""

from __future__ import annotations

from driftvakt_checks import logging_auditd as AUDITD
from driftvakt_checks import logging_rsyslog as RSYSLOG
from driftvakt_checks import test_logging as CHECK

# Debian 12's stock /etc/rsyslog.conf (abridged): legacy include, no forwarding.
DEBIAN_RSYSLOG_CONF = """\
# /etc/rsyslog.conf configuration file for rsyslog
module(load="imuxsock") # provides support for local system logging
module(load="imklog")   # provides kernel logging support
$WorkDirectory /var/spool/rsyslog
$IncludeConfig /etc/rsyslog.d/*.conf
*.*;auth,authpriv.none		-/var/log/syslog
auth,authpriv.*			/var/log/auth.log
"""
# RHEL 9's stock include line.
RHEL9_INCLUDE = 'include(file="/etc/rsyslog.d/*.conf" mode="optional")\n'
# The file the logging role renders, as written on a lab host.
DRIFTVAKT_CONF = """\
#
# Ansible managed
#
auth.*;authpriv.* action(type="omfwd" name="driftvakt_central" target="10.77.160.2" port="514" protocol="tcp"
    queue.type="LinkedList" queue.filename="driftvakt_central" queue.spoolDirectory="/var/spool/rsyslog"
    queue.maxDiskSpace="1g" queue.saveOnShutdown="on" action.resumeRetryCount="-1")

module(load="imfile")
input(type="imfile" file="/var/log/audit/audit.log" tag="audit:" facility="authpriv" severity="info" ruleset="driftvakt_audit")
ruleset(name="driftvakt_audit") {
  action(type="omfwd" name="driftvakt_central_audit" target="10.77.160.2" port="514" protocol="tcp"
      queue.type="LinkedList" queue.filename="driftvakt_central_audit" queue.spoolDirectory="/var/spool/rsyslog"
      queue.maxDiskSpace="1g" queue.saveOnShutdown="on" action.resumeRetryCount="-1")
}
"""
# A drift: someone's quick UDP forward of everything, in legacy syntax, and a commented one.
LEGACY_FORWARDS = """\
*.* @198.51.100.9:10514
#authpriv.* @@old-loghost.example
authpriv.*;local7.none @@[2001:db8::5]:6514
"""
# `auditctl -l` on a RHEL 9 host with the rules loaded (abridged).
AUDITCTL_LOADED = """\
-w /var/log/lastlog -p wa -k driftvakt_logins
-w /var/run/faillock -p wa -k driftvakt_logins
-a always,exit -S all -F path=/usr/bin/sudo -F perm=x -F key=driftvakt_privileged
-a always,exit -S all -F path=/usr/bin/su -F perm=x -F key=driftvakt_privileged
-w /etc/sudoers -p wa -k driftvakt_privileged
-w /etc/sudoers.d -p wa -k driftvakt_privileged
-w /etc/passwd -p wa -k driftvakt_accounts
-w /etc/shadow -p wa -k driftvakt_accounts
-w /etc/group -p wa -k driftvakt_accounts
-w /etc/gshadow -p wa -k driftvakt_accounts
-a always,exit -F arch=b64 -S adjtimex,settimeofday,clock_settime -F key=driftvakt_time
-w /etc/localtime -p wa -k driftvakt_time
"""
# Debian 12's stock rules.d/audit.rules: no event rules at all.
DEBIAN_STOCK_RULES = """\
## First rule - delete all
-D
-b 8192
--backlog_wait_time 60000
-f 1
"""


def test_rendered_forwards_are_tcp_with_disk_queues() -> None:
    forwards = RSYSLOG.parse_forwards(DRIFTVAKT_CONF)
    assert [(f.selector, f.target, f.port, f.protocol, f.disk_queue) for f in forwards] == [
        ("auth.*;authpriv.*", "10.77.160.2", "514", "tcp", True),
        (None, "10.77.160.2", "514", "tcp", True),
    ]
    assert RSYSLOG.selector_covers(forwards[0].selector, "authpriv")
    assert not RSYSLOG.selector_covers(forwards[1].selector, "authpriv")


def test_stock_configs_forward_nothing_and_include_rsyslog_d() -> None:
    assert RSYSLOG.parse_forwards(DEBIAN_RSYSLOG_CONF) == []
    assert RSYSLOG.parse_includes(DEBIAN_RSYSLOG_CONF) == ["/etc/rsyslog.d/*.conf"]
    assert RSYSLOG.parse_includes(RHEL9_INCLUDE) == ["/etc/rsyslog.d/*.conf"]


def test_legacy_forwards_are_found_and_comments_ignored() -> None:
    forwards = RSYSLOG.parse_forwards(LEGACY_FORWARDS)
    assert [(f.selector, f.target, f.port, f.protocol) for f in forwards] == [
        ("*.*", "198.51.100.9", "10514", "udp"),
        ("authpriv.*;local7.none", "2001:db8::5", "6514", "tcp"),
    ]
    assert not any(f.disk_queue for f in forwards)
    assert str(forwards[0]) == "*.* -> udp://198.51.100.9:10514 (no disk queue)"


def test_selector_coverage() -> None:
    assert RSYSLOG.selector_covers("*.*", "auth")
    assert RSYSLOG.selector_covers("auth,authpriv.*", "authpriv")
    assert not RSYSLOG.selector_covers("*.*;auth,authpriv.none", "auth")
    assert not RSYSLOG.selector_covers("mail.*", "auth")
    assert not RSYSLOG.selector_covers(None, "auth")


def test_split_dump() -> None:
    out = "==> /etc/a.conf <==\nline 1\n\n==> /etc/b.conf <==\nline 2\n"
    assert CHECK.split_dump(out) == {"/etc/a.conf": "line 1\n\n", "/etc/b.conf": "line 2\n"}
    assert CHECK.split_dump("") == {}


def test_loaded_rules_record_every_security_event() -> None:
    rules = AUDITD.parse_audit_rules(AUDITCTL_LOADED)
    assert AUDITD.missing_audit_events(rules) == []
    sudo = next(r for r in rules if r.fields.get("path") == "/usr/bin/sudo")
    assert (sudo.perms, sudo.key) == ("x", "driftvakt_privileged")
    time_rule = next(r for r in rules if "adjtimex" in r.syscalls)
    assert time_rule.arches == {"b64"}
    assert time_rule.key == "driftvakt_time"


# SLES's stock /etc/audit/rules.d/audit.rules carries "-a task,never" (DISA STIG SLES-12-020199:
# "By default, the SUSE operating system includes the "-a task,never" audit rule ... this rule
# supersedes all other defined syscall rules; therefore no syscall auditing can take place");
# auditctl -l lists it as "-a never,task". Every required rule besides it records nothing.
SLES_STOCK_HEAD = "-D\n-b 8192\n-a task,never\n"


def test_a_rule_that_switches_syscall_auditing_off_is_found() -> None:
    assert AUDITD.suppressing_rules(SLES_STOCK_HEAD + AUDITCTL_LOADED) == ["-a task,never"]
    assert AUDITD.suppressing_rules("-a never,task\n" + AUDITCTL_LOADED) == ["-a never,task"]
    assert AUDITD.suppressing_rules(AUDITCTL_LOADED) == []
    # a never rule for some tasks only is no blanket switch-off
    assert AUDITD.suppressing_rules("-a never,task -F uid=995\n# -a task,never\n") == []


def test_stock_rules_record_nothing() -> None:
    assert AUDITD.parse_audit_rules(DEBIAN_STOCK_RULES) == []
    assert len(AUDITD.missing_audit_events([])) == 11


def test_a_read_only_watch_or_missing_syscall_does_not_count() -> None:
    text = AUDITCTL_LOADED.replace("-w /etc/shadow -p wa", "-w /etc/shadow -p r").replace(
        "adjtimex,settimeofday,clock_settime", "adjtimex,settimeofday"
    )
    missing = AUDITD.missing_audit_events(AUDITD.parse_audit_rules(text))
    assert missing == [
        "clock changes: b64 adjtimex, settimeofday, clock_settime",
        "account changes: writes to /etc/shadow",
    ]


def test_execve_rule_with_exe_counts_as_privilege_use() -> None:
    text = AUDITCTL_LOADED.replace(
        "-a always,exit -S all -F path=/usr/bin/su -F perm=x",
        "-a always,exit -F arch=b64 -S execve -F exe=/usr/bin/su",
    )
    assert AUDITD.missing_audit_events(AUDITD.parse_audit_rules(text)) == []
