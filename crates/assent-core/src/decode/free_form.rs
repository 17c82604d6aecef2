//! Checking the free-form objects of an event (`properties`, `traits`, `context`) before any
//! stage relies on them.
//!
//! Native events keep these objects as the raw JSON the client sent, and only the policy parses
//! them, when it must remove something. So every object that is accepted must be one the policy
//! can read exactly as any later reader will: otherwise a value the policy cannot load (a number
//! such as `1e999`, a lone surrogate such as a page title cut in the middle of an emoji, a
//! nesting deeper than a parser's limit) or a key that two readers resolve differently (the
//! same key twice: one reader takes the first, another the last) would let identifiers through
//! unseen. Such an event is rejected by index with the path of the problem; the rest of its
//! batch is unaffected.
//!
//! The check walks the text once with serde_json's own parser and allocates nothing for the
//! values; it is about as costly as parsing the object into a tree, without building one.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::Rejection;
use crate::Event;

/// The deepest nesting of objects and arrays an event's free-form objects may have, counting
/// the object itself as level 1. Real events nest a handful of levels; this is far below the
/// limit of every JSON reader on the way (serde_json 128, SQLite's JSON functions 1000).
pub const MAX_DEPTH: usize = 64;

/// Checks every free-form object of a decoded event, whichever format it came in.
pub(crate) fn check_event(event: &Event) -> Result<(), Rejection> {
    for (field, raw) in [
        ("properties", &event.properties),
        ("traits", &event.traits),
        ("context", &event.context),
    ] {
        if let Some(raw) = raw {
            check(raw, field, MAX_DEPTH)?;
        }
    }
    Ok(())
}

/// Checks that `raw` holds JSON that every reader loads the same way: text without lone
/// surrogates, finite numbers, no key twice in one object, and at most `max_depth` levels.
///
/// ```
/// use assent_core::decode::free_form::check;
/// let ok = serde_json::value::RawValue::from_string(r#"{"page":{"title":"Sale 🎉"}}"#.into()).unwrap();
/// assert!(check(&ok, "context", 64).is_ok());
/// let cut = serde_json::value::RawValue::from_string(r#"{"page":{"title":"Sale \ud83d"}}"#.into()).unwrap();
/// assert_eq!(
///     check(&cut, "context", 64).unwrap_err().to_string(),
///     "`context` cannot be read at `page.title`: it holds a lone surrogate or a broken \\u escape (text cut in the middle of a character?)"
/// );
/// ```
pub fn check(raw: &RawValue, field: &'static str, max_depth: usize) -> Result<(), Rejection> {
    let walk = Walk {
        path: RefCell::new(Vec::new()),
        problem: RefCell::new(None),
        max_depth,
    };
    let mut parser = serde_json::Deserializer::from_str(raw.get());
    let outcome = Node {
        walk: &walk,
        depth: 0,
    }
    .deserialize(&mut parser)
    .and_then(|()| parser.end());
    let Err(error) = outcome else {
        return Ok(());
    };
    let problem = walk
        .problem
        .into_inner()
        .unwrap_or_else(|| describe_parser_error(&error, max_depth));
    let path = walk.path.into_inner();
    let problem = if path.is_empty() {
        format!("cannot be read: {problem}")
    } else {
        format!("cannot be read at `{}`: {problem}", path.join("."))
    };
    Err(Rejection::Invalid {
        field,
        problem: problem.into(),
    })
}

/// What serde_json says, in words a client can act on, without its line and column (the
/// path says where).
fn describe_parser_error(error: &serde_json::Error, max_depth: usize) -> String {
    let text = error.to_string();
    let text = text.split(" at line ").next().unwrap_or(&text);
    if text.contains("surrogate") || text.contains("hex escape") {
        "it holds a lone surrogate or a broken \\u escape (text cut in the middle of a character?)"
            .to_string()
    } else if text.contains("number out of range") {
        "it holds a number too large for a 64-bit float".to_string()
    } else if text.contains("recursion limit") {
        format!("it nests deeper than {} levels", max_depth.min(128))
    } else {
        text.to_string()
    }
}

/// The state of one walk: where the problem it found is (filled as the error unwinds), and
/// the problem (if it was ours rather than the parser's).
struct Walk {
    path: RefCell<Vec<String>>,
    problem: RefCell<Option<String>>,
    max_depth: usize,
}

impl Walk {
    fn fail<E: de::Error>(&self, problem: String) -> E {
        let error = E::custom(&problem);
        *self.problem.borrow_mut() = Some(problem);
        error
    }

    /// Notes, as an error unwinds, the key or index it came through: the path is built only
    /// for an event that fails, never for the ones that pass.
    fn within<E>(&self, step: String, error: E) -> E {
        self.path.borrow_mut().insert(0, step);
        error
    }
}

/// One value at some depth.
struct Node<'w> {
    walk: &'w Walk,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Node<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    // Scalars: reaching the visitor means the parser decoded them (escapes, numbers) fully.
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let depth = self.enter()?;
        let mut index = 0usize;
        loop {
            let node = Node {
                walk: self.walk,
                depth,
            };
            match seq.next_element_seed(node) {
                Ok(Some(())) => index += 1,
                Ok(None) => return Ok(()),
                Err(e) => return Err(self.walk.within(index.to_string(), e)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let depth = self.enter()?;
        let mut keys = Keys::default();
        while let Some(Key(key)) = map.next_key()? {
            if !keys.insert(key.clone()) {
                let error = self.walk.fail(
                    "the same key appears twice in one object; send each key once".to_string(),
                );
                return Err(self.walk.within(key.into_owned(), error));
            }
            let node = Node {
                walk: self.walk,
                depth,
            };
            if let Err(e) = map.next_value_seed(node) {
                return Err(self.walk.within(key.into_owned(), e));
            }
        }
        Ok(())
    }
}

impl Node<'_> {
    /// The depth inside the object or array being entered, if it is allowed.
    fn enter<E: de::Error>(&self) -> Result<usize, E> {
        let depth = self.depth + 1;
        if depth > self.walk.max_depth {
            return Err(self.walk.fail(format!(
                "it nests deeper than {} levels",
                self.walk.max_depth
            )));
        }
        Ok(depth)
    }
}

/// The keys of one object, to find a key sent twice. Most objects have a few keys, where a
/// list beats hashing; keys without escapes are borrowed from the text, not copied.
#[derive(Default)]
struct Keys<'de> {
    few: Vec<Cow<'de, str>>,
    many: Option<HashSet<Cow<'de, str>>>,
}

impl<'de> Keys<'de> {
    /// Adds `key`; false if it was already there.
    fn insert(&mut self, key: Cow<'de, str>) -> bool {
        if let Some(many) = &mut self.many {
            return many.insert(key);
        }
        if self.few.contains(&key) {
            return false;
        }
        self.few.push(key);
        if self.few.len() > 16 {
            self.many = Some(self.few.drain(..).collect());
        }
        true
    }
}

/// An object key, decoded (so `"a\u0062"` and `"ab"` are the same key), borrowed when the text
/// has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(json: &str) -> Option<String> {
        let raw = RawValue::from_string(json.to_string()).unwrap();
        check(&raw, "context", MAX_DEPTH)
            .err()
            .map(|e| e.to_string())
    }

    fn nested(depth: usize) -> String {
        format!(
            "{}{}",
            r#"{"a":"#.repeat(depth - 1) + "{}",
            "}".repeat(depth - 1)
        )
    }

    #[test]
    fn what_every_reader_loads_alike_passes() {
        for ok in [
            r#"{}"#,
            r#"{"page":{"title":"Sale 🎉","url":"https://s.example/?a=1"},"n":[1,2.5,-3,1e300]}"#,
            r#"{"title":"Sale \ud83c\udf89","esc":"a\"b\\c\u0041"}"#,
            r#"{"a":{"a":1},"b":{"a":2}}"#,
        ] {
            assert_eq!(problem(ok), None, "{ok}");
        }
        assert_eq!(problem(&nested(MAX_DEPTH)), None);
    }

    #[test]
    fn each_hostile_value_is_named_with_its_path() {
        let cases = [
            (
                r#"{"page":{"title":"Sale \ud83d"}}"#,
                "`context` cannot be read at `page.title`: it holds a lone surrogate or a broken \\u escape (text cut in the middle of a character?)",
            ),
            (
                r#"{"screen":{"width":1e999}}"#,
                "`context` cannot be read at `screen.width`: it holds a number too large for a 64-bit float",
            ),
            (
                r#"{"consent":{"state":{"analytics":"denied","analytics":"granted"}}}"#,
                "`context` cannot be read at `consent.state.analytics`: the same key appears twice in one object; send each key once",
            ),
            (
                r#"{"consent":{"state":{"analytics":"denied","analytic\u0073":"granted"}}}"#,
                "`context` cannot be read at `consent.state.analytics`: the same key appears twice in one object; send each key once",
            ),
            (
                r#"{"list":[{"ok":1},{"bad":"\udc00"}]}"#,
                "`context` cannot be read at `list.1.bad`: it holds a lone surrogate or a broken \\u escape (text cut in the middle of a character?)",
            ),
        ];
        for (json, expected) in cases {
            assert_eq!(problem(json).as_deref(), Some(expected), "{json}");
        }
        let deep = problem(&nested(MAX_DEPTH + 1)).unwrap();
        assert!(deep.ends_with("it nests deeper than 64 levels"), "{deep}");
        // Far past serde_json's own limit, the answer is the same.
        let deeper = problem(&nested(500)).unwrap();
        assert!(
            deeper.ends_with("it nests deeper than 64 levels"),
            "{deeper}"
        );
    }

    #[test]
    fn many_keys_are_still_checked_for_twins() {
        let mut keys: Vec<String> = (0..40).map(|i| format!("\"k{i}\":{i}")).collect();
        assert_eq!(problem(&format!("{{{}}}", keys.join(","))), None);
        keys.push("\"k3\":0".into());
        assert!(problem(&format!("{{{}}}", keys.join(",")))
            .unwrap()
            .contains("at `k3`: the same key appears twice"));
    }
}
