//! `.env` import and export.
//!
//! Accepts what people paste from real projects: `KEY=value`, `export KEY=value`, comments, blank
//! lines, single quotes (literal), double quotes (with `\n`, `\"`, `\\` escapes); quoted values
//! may span lines.
//!
//! Export writes text that both this parser and a POSIX shell (`. ./app.env`, `set -a`) read back
//! to the very same values, and that a shell never runs anything from: no `$(…)`, backticks or
//! `$VAR` expansion, no second line smuggled in through a key's name. A key or value that cannot be
//! written so is refused, by name (`ExportRefused`).

use std::collections::BTreeMap;

/// A parse problem, with the 1-based line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Parses `.env` text. Later duplicates win, as in a shell.
pub fn parse(text: &str) -> Result<BTreeMap<String, String>, Vec<ParseError>> {
    let mut out = BTreeMap::new();
    let mut errors = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let line_no = i + 1;
        let raw = lines[i].trim_start_matches('\u{feff}');
        i += 1;
        // Only the start is trimmed: the end of a line may belong to a quoted value going on below.
        let line = raw.trim_start();
        if line.trim_end().is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line
            .strip_prefix("export ")
            .map(str::trim_start)
            .unwrap_or(line);
        let Some((key, rest)) = line.split_once('=') else {
            errors.push(ParseError {
                line: line_no,
                message: "expected KEY=value".into(),
            });
            continue;
        };
        let key = key.trim().to_string();
        if key.is_empty() {
            errors.push(ParseError {
                line: line_no,
                message: "the key before '=' is empty".into(),
            });
            continue;
        }
        let rest = rest.trim_start();
        let value = if let Some(body) = rest.strip_prefix('"') {
            // Double quotes: may continue over following lines until an unescaped quote.
            let mut acc = body.to_string();
            loop {
                if let Some(end) = closing_quote(&acc) {
                    break after_quote(&acc[end + 1..], &key, line_no, &mut errors)
                        .then(|| unescape(&acc[..end]));
                }
                if i >= lines.len() {
                    errors.push(ParseError {
                        line: line_no,
                        message: format!("the value of {key} opens a \" that is never closed"),
                    });
                    break None;
                }
                acc.push('\n');
                acc.push_str(lines[i]);
                i += 1;
            }
        } else if let Some(body) = rest.strip_prefix('\'') {
            // Single quotes: literal, and may continue over following lines, as in a shell.
            let mut acc = body.to_string();
            loop {
                if let Some(end) = acc.find('\'') {
                    break after_quote(&acc[end + 1..], &key, line_no, &mut errors)
                        .then(|| acc[..end].to_string());
                }
                if i >= lines.len() {
                    errors.push(ParseError {
                        line: line_no,
                        message: format!("the value of {key} opens a ' that is never closed"),
                    });
                    break None;
                }
                acc.push('\n');
                acc.push_str(lines[i]);
                i += 1;
            }
        } else {
            // Unquoted: an inline comment starts at " #".
            let v = match rest.find(" #") {
                Some(pos) => &rest[..pos],
                None => rest,
            };
            Some(v.trim_end().to_string())
        };
        if let Some(value) = value {
            out.insert(key, value);
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Whether what follows a value's closing quote is nothing or a comment; else records why not
/// (`K='a'b`, or a quote left open that swallowed the lines below).
fn after_quote(rest: &str, key: &str, line: usize, errors: &mut Vec<ParseError>) -> bool {
    let rest = rest.trim();
    if rest.is_empty() || rest.starts_with('#') {
        return true;
    }
    errors.push(ParseError {
        line,
        message: format!("the value of {key} goes on after its closing quote"),
    });
    false
}

fn closing_quote(s: &str) -> Option<usize> {
    let mut escaped = false;
    for (idx, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return Some(idx),
            _ => {}
        }
    }
    None
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// Keys or values `export` cannot write safely, each with the reason, in key order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportRefused(pub Vec<(String, &'static str)>);

impl std::fmt::Display for ExportRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let items: Vec<String> = self
            .0
            .iter()
            .map(|(k, why)| format!("{k:?} ({why})"))
            .collect();
        write!(
            f,
            "This secret cannot be exported as a .env file that a shell reads safely: {}.",
            items.join(", ")
        )
    }
}

/// Characters a value may hold with no quotes at all.
fn bare(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_./:@+,%".contains(c)
}

/// Names a shell gives a meaning of its own: set from a file, they run commands later (`BASH_ENV`,
/// `ENV`, `PS4`, `PROMPT_COMMAND`), steer what runs (`PATH`, `IFS`, `LD_PRELOAD`), or do not read
/// back (`RANDOM`, `SECONDS`, read-only `UID`).
const SHELL_OWN: [&str; 28] = [
    "_",
    "BASHOPTS",
    "CDPATH",
    "ENV",
    "EUID",
    "FUNCNAME",
    "GROUPS",
    "HISTFILE",
    "HOME",
    "IFS",
    "LINENO",
    "MAIL",
    "MAILPATH",
    "OLDPWD",
    "OPTARG",
    "OPTIND",
    "PATH",
    "POSIXLY_CORRECT",
    "PPID",
    "PROMPT_COMMAND",
    "PS1",
    "PS2",
    "PS3",
    "PS4",
    "PWD",
    "RANDOM",
    "SECONDS",
    "UID",
];
const SHELL_OWN_PREFIXES: [&str; 4] = ["BASH", "LD_", "DYLD_", "SHELLOPTS"];

/// Why a key cannot be a variable set by sourcing the export, if it cannot.
fn name_refused(k: &str) -> Option<&'static str> {
    let mut chars = k.chars();
    let assignable = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !assignable {
        return Some("a name a shell cannot assign");
    }
    let own = SHELL_OWN.contains(&k) || SHELL_OWN_PREFIXES.iter().any(|p| k.starts_with(p));
    own.then_some("a name the shell itself uses")
}

/// How one value is written: bare, in single quotes (literal in a shell and here), or, when it
/// holds a `'`, in double quotes if nothing in it means anything there to a shell or to `parse`.
fn quoted(v: &str) -> Result<String, &'static str> {
    if v.contains('\0') {
        return Err("a NUL character, which no shell variable can hold");
    }
    if v.contains('\r') {
        return Err("a carriage return, which would not read back the same");
    }
    if !v.is_empty() && v.chars().all(bare) {
        return Ok(v.to_string());
    }
    if !v.contains('\'') {
        return Ok(format!("'{v}'"));
    }
    if v.contains(['$', '`', '\\', '"']) {
        return Err("a ' together with $, `, \\ or \" in its value; copy it with Reveal instead");
    }
    Ok(format!("\"{v}\""))
}

/// Writes `.env` text that [`parse`] and a POSIX shell read back to the same map (see the
/// module's doc), or names every key that cannot be written so.
pub fn export(data: &BTreeMap<String, String>) -> Result<String, ExportRefused> {
    let mut out = String::new();
    let mut refused = Vec::new();
    for (k, v) in data {
        if let Some(why) = name_refused(k) {
            refused.push((k.clone(), why));
            continue;
        }
        match quoted(v) {
            Ok(v) => {
                out.push_str(k);
                out.push('=');
                out.push_str(&v);
                out.push('\n');
            }
            Err(why) => refused.push((k.clone(), why)),
        }
    }
    if refused.is_empty() {
        Ok(out)
    } else {
        Err(ExportRefused(refused))
    }
}

#[cfg(test)]
mod tests {
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
}
