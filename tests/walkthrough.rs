//! The README's walkthrough, run as written: the block after `<!-- walkthrough -->`,
//! pasted into bash from the repository's folder, against the built binary.

mod common;

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use common::process::free_port;

/// The shell block the README marks as the walkthrough.
fn walkthrough() -> String {
    let readme = include_str!("../README.md");
    let after = readme.split("<!-- walkthrough -->").nth(1).expect("the README marks its walkthrough");
    let block = after.split("```sh\n").nth(1).expect("a sh block follows the mark");
    block.split("\n```").next().expect("the block ends").to_string()
}

#[test]
fn the_readme_walkthrough_works_when_pasted() {
    for tool in ["curl", "jq"] {
        let found = Command::new(tool).arg("--version").stdout(Stdio::null()).status().is_ok_and(|s| s.success());
        assert!(found, "the walkthrough needs {tool} (apt-get install {tool}); .ci/run installs it");
    }
    let port = free_port();
    // Its own process group, so the server it starts is stopped even when a step fails.
    let child = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &walkthrough()])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("CASETRACK", env!("CARGO_BIN_EXE_casetrack"))
        .env("PORT", port.to_string())
        .env_remove("DATABASE_URL")
        .env_remove("CASETRACK_PROFILE")
        .env_remove("CASETRACK_CONFIG_DIR")
        .env("RUST_LOG", "warn")
        .process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let group = child.id();
    let out = child.wait_with_output().unwrap();
    let _ = Command::new("kill").args(["-TERM", "--", &format!("-{group}")]).stderr(Stdio::null()).status();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the walkthrough failed:\n{stdout}\n{stderr}");
    let folder = stdout.lines().find_map(|l| l.strip_prefix("working in ")).expect("it names its folder").to_string();
    let lines: Vec<&str> = stdout.lines().collect();
    let at =
        |prefix: &str| lines.iter().position(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("{prefix}: {stdout}"));

    // The case goes through the workflow, one transition at a time.
    let case = at("case ");
    assert!(lines[case].len() > "case ".len() + 30, "a case id: {}", lines[case]);
    assert_eq!(&lines[case + 1..case + 4], ["in_handling", "remediated", "closed"], "{stdout}");
    let kinds = &lines[case + 4..case + 8];
    assert_eq!(kinds, ["created", "transition", "transition", "transition"], "{stdout}");

    // The report counts it, and the exports are of the same period.
    let report: serde_json::Value = serde_json::from_str(lines[case + 8]).expect("the report as JSON");
    assert!(report["cases"]["detected"].as_i64().unwrap() > 100 && report["cases"]["handled"].as_i64().unwrap() > 0);
    let csv = &lines[case + 9..case + 14];
    assert!(csv[0].contains("tổ chức, cá nhân có vi phạm"), "the official sentence opens it: {csv:?}");
    assert!(csv[2].contains("Phát hiện"), "{csv:?}");
    let all = csv[3].split(',').collect::<Vec<_>>();
    assert_eq!(all[0], "Tổng số vụ việc");
    assert_eq!(all[3], report["cases"]["detected"].to_string(), "the CSV counts the same period as the JSON");
    let folder = std::path::Path::new(&folder);
    for file in ["demo.txt", "serve.log", "bao-cao.csv", "bao-cao.xlsx", "data/casetrack.db"] {
        assert!(folder.join(file).exists(), "{file} in the walkthrough's folder");
    }
    let title = std::fs::read_to_string(folder.join("bao-cao.csv")).unwrap();
    assert!(!title.is_empty());

    // Messages in Vietnamese, then English; the new password signs in.
    let bad = at("Trường này là bắt buộc.");
    assert_eq!(lines[bad + 1], "This field is required.");
    assert_eq!(lines[bad + 2], "password changed: 204");
    assert!(lines[bad + 3].starts_with("eyJ"), "a token for the new password: {}", lines[bad + 3]);
    let _ = std::fs::remove_dir_all(folder);
}
