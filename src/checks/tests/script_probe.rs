//! probe_script with real child processes.

mod common;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use ballast_checks::{probe_script, StatusHandler, CRITICAL, PASSING, WARNING};
use common::*;

const TIMEOUT: Duration = Duration::from_secs(30);

fn sh(script: &str) -> Vec<String> {
    vec!["sh".to_string(), "-c".to_string(), script.to_string()]
}

fn script(args: Vec<String>, timeout: Duration, max: usize) -> ballast_checks::Outcome {
    run(async move { probe_script(&args, timeout, max).await })
}

#[test]
fn exit_codes_map_like_consul() {
    for (code, expected) in [(0, PASSING), (1, WARNING), (2, CRITICAL), (127, CRITICAL)] {
        let out = script(sh(&format!("echo code {code}; exit {code}")), TIMEOUT, 0);
        assert_eq!(
            (out.status, out.output.as_str()),
            (expected, format!("code {code}\n").as_str())
        );
        assert!(!out.immediate);
    }
}

#[test]
fn death_by_signal_is_critical() {
    let out = script(sh("kill -9 $$"), TIMEOUT, 0);
    assert_eq!(out.status, CRITICAL);
}

#[test]
fn stdout_and_stderr_share_one_buffer_in_order() {
    let out = script(sh("echo out; echo err >&2; echo out2"), TIMEOUT, 0);
    assert_eq!(
        (out.status, out.output.as_str()),
        (PASSING, "out\nerr\nout2\n")
    );
}

#[test]
fn long_output_keeps_its_tail_with_consul_header() {
    let out = script(
        sh("head -c 10000 /dev/zero | tr '\\0' a; printf END"),
        TIMEOUT,
        100,
    );
    let expected = format!("Captured 100 of 10003 bytes\n...\n{}END", "a".repeat(97));
    assert_eq!((out.status, out.output), (PASSING, expected));
}

#[test]
fn missing_programs_fail_at_once() {
    let out = script(vec!["foobarbaz-no-such".to_string()], TIMEOUT, 0);
    assert_eq!(
        (out.status, out.output.as_str(), out.immediate),
        (
            CRITICAL,
            "exec: \"foobarbaz-no-such\": executable file not found in $PATH",
            true
        )
    );
    let out = script(vec!["/no/such/program".to_string()], TIMEOUT, 0);
    assert_eq!(
        (out.status, out.output.as_str()),
        (
            CRITICAL,
            "fork/exec /no/such/program: no such file or directory"
        )
    );
    let out = script(Vec::new(), TIMEOUT, 0);
    assert_eq!(
        (out.status, out.output.as_str()),
        (CRITICAL, "need an executable to run")
    );
}

fn process_gone(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // A zombie left for an init that does not reap is dead too.
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .map(|rest| rest.trim_start().starts_with('Z'))
            .unwrap_or(false),
    }
}

fn read_pid(path: &std::path::Path) -> i32 {
    std::fs::read_to_string(path)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn timeout_kills_the_process_group_and_reports_output() {
    let dir = std::env::temp_dir().join(format!("checks-timeout-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let pid_file = dir.join("pid");
    let cmd = format!(
        "sleep 60 & echo $! > {}; echo started; wait",
        pid_file.display()
    );
    let out = script(sh(&cmd), Duration::from_millis(300), 0);
    assert_eq!(out.status, CRITICAL);
    assert_eq!(out.output, "Timed out (300ms) running check\n\nstarted\n");
    assert!(
        out.immediate,
        "timeouts bypass the StatusHandler, as in Consul"
    );
    let grandchild = read_pid(&pid_file);
    run(async move {
        while !process_gone(grandchild) {
            glommio::timer::sleep(Duration::from_millis(10)).await;
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn silent_timeout_has_no_output_section() {
    let out = script(sh("exec sleep 60"), Duration::from_millis(100), 0);
    assert_eq!(
        (out.status, out.output.as_str()),
        (CRITICAL, "Timed out (100ms) running check")
    );
}

#[test]
fn dropping_the_probe_kills_the_script() {
    let dir = std::env::temp_dir().join(format!("checks-drop-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let pid_file = dir.join("pid");
    let cmd = format!("echo $$ > {}; exec sleep 60", pid_file.display());
    let pid_path = pid_file.clone();
    run(async move {
        let args = sh(&cmd);
        let probe = async { Some(probe_script(&args, TIMEOUT, 0).await) };
        let stop = async {
            while !pid_path.exists()
                || std::fs::read_to_string(&pid_path)
                    .unwrap_or_default()
                    .trim()
                    .is_empty()
            {
                glommio::timer::sleep(Duration::from_millis(5)).await;
            }
            None
        };
        assert_eq!(
            futures_lite::future::or(probe, stop).await,
            None,
            "the script should still be running"
        );
    });
    let pid = read_pid(&pid_file);
    run(async move {
        while !process_gone(pid) {
            glommio::timer::sleep(Duration::from_millis(10)).await;
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_executor_keeps_running_while_a_script_runs() {
    let ticks = run(async {
        let ticks = Rc::new(Cell::new(0u32));
        let t = ticks.clone();
        let ticker = glommio::spawn_local(async move {
            loop {
                glommio::timer::sleep(Duration::from_millis(5)).await;
                t.set(t.get() + 1);
            }
        });
        let out = probe_script(&sh("sleep 0.3; exit 0"), TIMEOUT, 0).await;
        assert_eq!(out.status, PASSING);
        drop(ticker);
        ticks.get()
    });
    assert!(ticks > 0, "other tasks ran during the script");
}

#[test]
fn script_outcomes_through_thresholds() {
    // A check with FailuresBeforeCritical=2: one failing run is held back.
    let mut handler = StatusHandler::for_check(0, 0, 2);
    let first = script(sh("exit 0"), TIMEOUT, 0);
    assert_eq!(handler.update(first).map(|o| o.status), Some(PASSING));
    let fail = script(sh("exit 2"), TIMEOUT, 0);
    assert_eq!(handler.update(fail.clone()), None);
    assert_eq!(handler.update(fail).map(|o| o.status), Some(CRITICAL));
}
