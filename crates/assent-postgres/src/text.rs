//! Text as PostgreSQL takes it.
//!
//! PostgreSQL's `text` cannot hold the NUL character, and one event carrying it (an id sent
//! as `"a\u0000b"`) would fail the whole group commit it is in, again at every retry. So NUL
//! becomes U+FFFD in every text the store writes, and in every identifier it is asked about,
//! so that a deletion or an export by the same id still finds it.

use std::borrow::Cow;

/// `text` with NUL replaced; borrowed when there is none (nearly always).
pub(crate) fn pg(text: &str) -> Cow<'_, str> {
    if text.contains('\0') {
        Cow::Owned(text.replace('\0', "\u{FFFD}"))
    } else {
        Cow::Borrowed(text)
    }
}

pub(crate) fn pg_opt(text: &Option<String>) -> Option<Cow<'_, str>> {
    text.as_deref().map(pg)
}

#[cfg(test)]
mod tests {
    #[test]
    fn nul_is_replaced_and_other_text_is_borrowed() {
        assert_eq!(super::pg("a\0b"), "a\u{FFFD}b");
        assert!(matches!(super::pg("ab"), std::borrow::Cow::Borrowed(_)));
    }
}
