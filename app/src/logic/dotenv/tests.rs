//! `.env` import and export, case by case; the export is also sourced by a real `sh` and `bash`.

use super::*;

#[test]
fn parses_the_forms_people_paste() {
    let text = "# db\nexport DB_USER=app\nDB_PASS='p@ss #1'\nURL=http://x/y # comment\n\nMULTI=\"line1\nline2\"\nESC=\"a\\nb \\\"q\\\"\"\nEMPTY=\n";
    let m = parse(text).unwrap();
    assert_eq!(m["DB_USER"], "app");
    assert_eq!(m["DB_PASS"], "p@ss #1");
    assert_eq!(m["URL"], "http://x/y");
    assert_eq!(m["MULTI"], "line1\nline2");
    assert_eq!(m["ESC"], "a\nb \"q\"");
    assert_eq!(m["EMPTY"], "");
}

#[test]
fn reports_bad_lines_with_their_numbers() {
    let errs = parse("OK=1\nnot a pair\n=x\nQ=\"open\n").unwrap_err();
    let lines: Vec<usize> = errs.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![2, 3, 4]);
    assert!(errs[2].to_string().contains("never closed"));
}

#[test]
fn export_round_trips_through_parse() {
    let mut m = BTreeMap::new();
    m.insert(
        "PEM".to_string(),
        "-----BEGIN-----\nabc\n-----END-----".to_string(),
    );
    m.insert("JSON".to_string(), r#"{"a": "b\\c"}"#.to_string());
    m.insert("PLAIN".to_string(), "static-user".to_string());
    m.insert("EMPTY".to_string(), String::new());
    m.insert("SPACES".to_string(), " padded # not a comment ".to_string());
    m.insert("QUOTE".to_string(), "it's fine".to_string());
    let text = export(&m).unwrap();
    assert!(text.contains("PLAIN=static-user\n"));
    assert_eq!(parse(&text).unwrap(), m);
}

/// Values a shell would run or expand, if written carelessly.
fn hostile() -> BTreeMap<String, String> {
    [
        ("CMD", "$(touch pwned)"),
        ("TICKS", "`touch pwned`"),
        ("VAR", "$HOME and ${PATH}"),
        ("NEWLINE_CMD", "a\ntouch pwned"),
        ("QUOTES", "it's \"quoted\""),
        ("BACKSLASH", "C:\\dir\\n"),
        ("PEM", "-----BEGIN-----\nabc\n-----END-----\n"),
        ("EMPTY", ""),
        ("APOSTROPHE", "don't"),
        ("TRAILING", "x \ny"),
        ("TAB_END", "x\t\n\ty "),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

#[test]
fn a_shell_sourcing_the_export_gets_the_values_and_runs_nothing() {
    let mut data = hostile();
    data.remove("QUOTES"); // refused: see below
    let text = export(&data).unwrap();
    assert_eq!(parse(&text).unwrap(), data, "{text}");
    let dir = std::env::temp_dir().join(format!("keyway-dotenv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("app.env"), &text).unwrap();
    for (k, v) in &data {
        for (shell, script) in [
            ("sh", format!(". ./app.env && printf '%s' \"${k}\"")),
            (
                "bash",
                format!("set -a; . ./app.env; bash -c 'printf %s \"${k}\"'"),
            ),
        ] {
            let out = std::process::Command::new(shell)
                .current_dir(&dir)
                .arg("-c")
                .arg(script)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{k} in {shell}: {stderr}");
            let got = String::from_utf8(out.stdout).unwrap();
            assert_eq!(got, *v, "{k} read back by {shell}");
        }
    }
    let ran = dir.join("pwned").exists();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(!ran, "sourcing the export ran a command:\n{text}");
}

#[test]
fn what_cannot_be_written_safely_is_refused_by_name() {
    let mut data = hostile();
    data.insert("BAD\nNAME".into(), "x".into());
    data.insert("A=B".into(), "x".into());
    data.insert("CR".into(), "line\r\n".into());
    data.insert("BASH_ENV".into(), "$(touch pwned)".into());
    data.insert("RANDOM".into(), "4".into());
    let refused = export(&data).unwrap_err();
    let keys: Vec<&str> = refused.0.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        ["A=B", "BAD\nNAME", "BASH_ENV", "CR", "QUOTES", "RANDOM"]
    );
    let message = refused.to_string();
    assert!(
        message.contains("\"QUOTES\" (a ' together with"),
        "{message}"
    );
    assert!(
        message.contains("\"BASH_ENV\" (a name the shell itself uses)"),
        "{message}"
    );
    assert!(
        !message.contains('\n'),
        "a key broke the message's line: {message}"
    );
    assert!(
        !message.contains("quoted"),
        "a value reached the message: {message}"
    );
}

#[test]
fn text_after_a_closing_quote_is_an_error_not_dropped() {
    let errs = parse("A='abc\nB=don't\nC=1\n").unwrap_err();
    assert!(
        errs[0]
            .to_string()
            .contains("goes on after its closing quote"),
        "{errs:?}"
    );
    assert!(parse("L='a'b\n").is_err());
    assert_eq!(parse("K='x' # note\n").unwrap()["K"], "x");
    assert_eq!(parse("K=it's\n").unwrap()["K"], "it's");
}
