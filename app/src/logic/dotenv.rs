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
mod tests;
