//! `.env` import and export.
//!
//! Accepts what people paste from real projects: `KEY=value`, `export KEY=value`, comments, blank
//! lines, single quotes (literal), double quotes (with `\n`, `\"`, `\\` escapes, and values that
//! span lines). Export writes the form this parser reads back unchanged.

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
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
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
                    break Some(unescape(&acc[..end]));
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
            match body.find('\'') {
                Some(end) => Some(body[..end].to_string()),
                None => {
                    errors.push(ParseError {
                        line: line_no,
                        message: format!("the value of {key} opens a ' that is never closed"),
                    });
                    None
                }
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

/// Writes `.env` text that [`parse`] reads back to the same map.
pub fn export(data: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    for (k, v) in data {
        out.push_str(k);
        out.push('=');
        let plain = !v.is_empty()
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./:@+,%".contains(c));
        if plain {
            out.push_str(v);
        } else {
            out.push('"');
            for c in v.chars() {
                match c {
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    c => out.push(c),
                }
            }
            out.push('"');
        }
        out.push('\n');
    }
    out
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
        let text = export(&m);
        assert!(text.contains("PLAIN=static-user\n"));
        assert_eq!(parse(&text).unwrap(), m);
    }
}
