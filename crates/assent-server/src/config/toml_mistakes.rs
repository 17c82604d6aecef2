//! Mistakes of TOML syntax and of types, all of them, each with a fix that names the key.
//!
//! serde stops at the first mistake. To list every one, each mistake's lines are turned into
//! comments and the file is read again, until it reads or a mistake has no line that can go (a
//! table header, a missing key). Lines are never added or removed, so every later mistake
//! still has its own line number.

use std::ops::Range;

use serde::de::DeserializeOwned;

use super::{line_of, Problem};

/// How many mistakes of this kind one run lists at most (each costs a read of the file).
const MAX_MISTAKES: usize = 50;

/// What reading found.
pub(super) struct Read<T> {
    /// The file, once its mistaken lines were left out; `None` when that was not enough.
    pub file: Option<T>,
    pub problems: Vec<Problem>,
    /// Keys left out, each with the header of its table (`""` before any header).
    pub left_out: Vec<(String, String)>,
}

pub(super) fn read_all<T: DeserializeOwned>(text: &str) -> Read<T> {
    let mut reading = text.to_string();
    let mut read = Read {
        file: None,
        problems: Vec::new(),
        left_out: Vec::new(),
    };
    loop {
        match toml::from_str::<T>(&reading) {
            Ok(file) => {
                read.file = Some(file);
                return read;
            }
            Err(e) => {
                read.problems.push(problem(&reading, &e));
                let Some(span) = e.span() else {
                    return read;
                };
                let key = key_value(&reading, span.start).map(|(k, _)| k.to_string());
                let table = table(&reading, span.start).unwrap_or_default().to_string();
                if read.problems.len() >= MAX_MISTAKES || !comment_out(&mut reading, span) {
                    return read;
                }
                read.left_out.extend(key.map(|k| (table, k)));
            }
        }
    }
}

/// The header of the table the line at `offset` belongs to (`[[projects]]`, `[store]`).
pub(super) fn table(text: &str, offset: usize) -> Option<&str> {
    let end = text[offset.min(text.len())..]
        .find('\n')
        .map_or(text.len(), |i| offset + i);
    text[..end]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
}

/// Turns the lines `span` covers into comments; false when one is a table header or already a
/// comment (leaving it out would change what the rest of the file means, or change nothing).
fn comment_out(text: &mut String, span: Range<usize>) -> bool {
    let start = text[..span.start.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let end = span
        .end
        .clamp(span.start + 1, text.len().max(span.start + 1));
    let mut lines = vec![start];
    lines.extend(
        text[start..end.min(text.len())]
            .match_indices('\n')
            .map(|(i, _)| start + i + 1)
            .filter(|&p| p < end.min(text.len())),
    );
    let opens = |p: usize| text[p..].trim_start_matches([' ', '\t']).chars().next();
    if lines
        .iter()
        .any(|&p| matches!(opens(p), None | Some('[' | '#' | '\n' | '\r')))
    {
        return false;
    }
    for &p in lines.iter().rev() {
        text.insert(p, '#');
    }
    true
}

/// The key and the value written on the line at `offset`, if it is a `key = value` line.
fn key_value(text: &str, offset: usize) -> Option<(&str, &str)> {
    let start = text[..offset.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let line = text[start..].lines().next()?;
    let (key, value) = line.split_once('=')?;
    Some((key.trim(), value.split(" #").next()?.trim()))
}

/// The words in backticks after `expected` in a serde message (the allowed values).
fn expected_words(message: &str) -> Vec<&str> {
    let Some((_, expected)) = message.split_once("expected ") else {
        return vec![];
    };
    expected.split('`').skip(1).step_by(2).collect()
}

fn problem(text: &str, e: &toml::de::Error) -> Problem {
    let message = e.message().trim().to_string();
    let at = e.span().map_or(0, |s| s.start);
    let fix = fix(text, at, &message);
    Problem {
        line: e.span().map(|s| line_of(text, s.start)),
        message,
        fix,
    }
}

fn fix(text: &str, at: usize, message: &str) -> String {
    let (key, value) = key_value(text, at).unwrap_or(("the key", "…"));
    if message.contains("AdminTokenSpec") {
        return "write an admin token as \"sk_...\", { name = \"dpo\", token = \"sk_...\" } or { name = \"dpo\", sha256 = \"<64 hex digits>\" }".into();
    }
    if let Some(unknown) = message
        .strip_prefix("unknown field `")
        .and_then(|m| m.split('`').next())
    {
        let allowed = expected_words(message);
        return match closest(unknown, &allowed) {
            Some(best) => format!("did you mean `{best}`?"),
            None => format!("remove `{unknown}`; allowed here: {}", allowed.join(", ")),
        };
    }
    if let Some(given) = message
        .strip_prefix("unknown variant `")
        .and_then(|m| m.split('`').next())
    {
        let allowed = expected_words(message);
        let one_of = format!("expected one of {}", allowed.join(", "));
        return match closest(given, &allowed) {
            Some(best) => format!("{one_of}: write {key} = \"{best}\""),
            None => format!(
                "{one_of}, e.g. {key} = \"{}\"",
                allowed.first().unwrap_or(&"")
            ),
        };
    }
    if let Some(missing) = message
        .strip_prefix("missing field `")
        .and_then(|m| m.split('`').next())
    {
        let table = table(text, at).unwrap_or("this table");
        return format!("add {missing} = … to the {table} table that starts on this line");
    }
    let bare = value.trim_matches('"');
    if message.ends_with("expected a sequence") {
        return format!("write a list in [ ]: {key} = [\"{bare}\"]");
    }
    if message.ends_with("expected a string") {
        return format!("write the value in double quotes: {key} = \"{bare}\"");
    }
    if message.ends_with("expected a boolean") {
        return format!("write true or false, without quotes: {key} = true");
    }
    if let Some(range) = whole_number_range(message) {
        return format!("write a whole number{range} without quotes: {key} = …");
    }
    if message.starts_with("invalid type") || message.starts_with("invalid value") {
        return "give the value the type the message asks for (strings in double quotes, lists in [ ])"
            .into();
    }
    "fix the TOML syntax at the place shown (https://toml.io explains the format)".into()
}

/// "expected u16" → " from 0 to 65535", for the integer types the configuration uses.
fn whole_number_range(message: &str) -> Option<&'static str> {
    let ty = message.rsplit("expected ").next()?;
    Some(match ty {
        "u16" => " from 0 to 65535",
        "u32" => " from 0 to 4294967295",
        "u64" | "usize" => " of 0 or more",
        "i64" | "an integer" => "",
        _ => return None,
    })
}

/// The allowed word a mistyped one most likely meant, if any is close.
fn closest<'a>(given: &str, allowed: &[&'a str]) -> Option<&'a str> {
    allowed
        .iter()
        .map(|a| (strsim::damerau_levenshtein(given, a), *a))
        .filter(|(d, a)| *d <= 2 || (given.len() >= 3 && a.starts_with(given)))
        .min_by_key(|(d, _)| *d)
        .map(|(_, a)| a)
}

#[cfg(test)]
mod tests {
    use crate::config::parse;

    fn listed(text: &str) -> Vec<(Option<usize>, String, String)> {
        parse(text, "test.toml")
            .expect_err("the file has mistakes")
            .problems
            .into_iter()
            .map(|p| (p.line, p.message, p.fix))
            .collect()
    }

    #[test]
    fn every_mistake_of_type_is_listed_with_its_line_and_a_fix_that_names_the_key() {
        let text = r#"listen = 8080
[store]
durability = "fast"
[[projects]]
id = "demo"
write_keys = "pk_demo"
id_cookie_days = -3
id_cookie_secure = "yes"
ip = "trunc"
"#;
        let problems = listed(text);
        let fixes: Vec<(Option<usize>, &str)> =
            problems.iter().map(|(l, _, f)| (*l, f.as_str())).collect();
        assert_eq!(
            fixes,
            [
                (
                    Some(1),
                    "write the value in double quotes: listen = \"8080\""
                ),
                (
                    Some(3),
                    "expected one of full, normal, e.g. durability = \"full\""
                ),
                (Some(6), "write a list in [ ]: write_keys = [\"pk_demo\"]"),
                (
                    Some(7),
                    "write a whole number from 0 to 65535 without quotes: id_cookie_days = …"
                ),
                (
                    Some(8),
                    "write true or false, without quotes: id_cookie_secure = true"
                ),
                (
                    Some(9),
                    "expected one of truncate, drop, keep: write ip = \"truncate\""
                ),
            ],
            "{problems:#?}"
        );
        assert!(
            !problems.iter().any(|(_, m, _)| m.contains("no write key")),
            "a mistyped write_keys is not reported missing as well: {problems:#?}"
        );
    }

    #[test]
    fn mistakes_of_type_and_of_meaning_are_listed_together_in_file_order() {
        let text = "listen = \"localhost\"\n[[projects]]\nid = \"a b\"\nwrite_keys = [\"pk\"]\nmode = \"maybe\"\n";
        let lines: Vec<Option<usize>> = listed(text).into_iter().map(|(l, _, _)| l).collect();
        assert_eq!(lines, [Some(1), Some(3), Some(5)]);
    }

    #[test]
    fn a_mistake_that_cannot_be_left_out_ends_the_list() {
        // `ip = 3` is left out; the missing `id` cannot be, so the list ends with it.
        let problems = listed("[[projects]]\nwrite_keys = [\"pk\"]\nip = 3\n");
        assert_eq!(problems.len(), 2, "{problems:#?}");
        assert_eq!(problems[0].0, Some(3));
        assert_eq!(
            problems[1].2,
            "add id = … to the [[projects]] table that starts on this line"
        );
        let problems = listed("listen = \"127.0.0.1:1\"\n[store\n");
        assert_eq!(problems[0].0, Some(2));
        assert!(problems[0].2.contains("TOML syntax"), "{problems:#?}");
    }
}
