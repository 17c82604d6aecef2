//! Removing ad click ids and cross-domain ids from the URLs an event carries, as the collector
//! does without `marketing` consent.

use serde_json::{Map, Value};

use crate::event::Event;

/// Query parameters that identify a click, a visitor or a device to an ad network, and
/// Assent's own cross-domain link. The collector's list: a test holds the two together.
pub(crate) const PARAMS: &[&str] = &[
    "gclid",
    "gbraid",
    "wbraid",
    "dclid",
    "gclsrc",
    "fbclid",
    "msclkid",
    "ttclid",
    "twclid",
    "li_fat_id",
    "yclid",
    "mc_eid",
    "igshid",
    "epik",
    "rdt_cid",
    "sccid",
    "irclickid",
    "_gl",
    "ast_xd",
];

/// URL-bearing fields of `context.page` and of page properties.
const URL_FIELDS: &[&str] = &["url", "search", "referrer"];

/// Returns whether anything was removed.
pub(crate) fn strip(event: &mut Event) -> bool {
    let in_page = match event.context.as_mut().and_then(|c| c.get_mut("page")) {
        Some(Value::Object(page)) => clean_fields(page),
        _ => false,
    };
    let in_properties = event.properties.as_mut().is_some_and(clean_fields);
    in_page | in_properties
}

fn clean_fields(object: &mut Map<String, Value>) -> bool {
    let mut changed = false;
    for field in URL_FIELDS {
        if let Some(Value::String(text)) = object.get_mut(*field) {
            if let Some(clean) = without_params(text) {
                *text = clean;
                changed = true;
            }
        }
    }
    changed
}

/// The URL or query string without the listed parameters, or `None` if it had none. The
/// pairs that stay are kept byte for byte, in their order.
fn without_params(text: &str) -> Option<String> {
    let (head, rest) = match text.find('?') {
        Some(i) => text.split_at(i + 1),
        None if text.contains('=') => ("", text),
        None => return None,
    };
    let (query, fragment) = rest.split_at(rest.find('#').unwrap_or(rest.len()));
    let pairs: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
    let kept: Vec<&str> = pairs
        .iter()
        .copied()
        .filter(|pair| !is_click_id(pair.split('=').next().unwrap_or_default()))
        .collect();
    if kept.len() == pairs.len() {
        return None;
    }
    let query = kept.join("&");
    let head = if query.is_empty() {
        head.trim_end_matches('?')
    } else {
        head
    };
    Some(format!("{head}{query}{fragment}"))
}

/// A query key as a browser would read it (`+` is a space, `%67clid` is `gclid`), in any case.
fn is_click_id(raw_key: &str) -> bool {
    let spaced = raw_key.replace('+', " ");
    let key = percent_encoding::percent_decode_str(&spaced).decode_utf8_lossy();
    PARAMS.iter().any(|p| key.eq_ignore_ascii_case(p))
}

#[cfg(test)]
mod tests {
    use super::{without_params, PARAMS};

    #[test]
    fn only_the_listed_parameters_go_and_the_rest_is_kept_as_written() {
        let cases = [
            (
                "https://shop.example/p?sku=1&gclid=ABC#top",
                Some("https://shop.example/p?sku=1#top"),
            ),
            (
                "https://shop.example/p?fbclid=X",
                Some("https://shop.example/p"),
            ),
            (
                "?utm_source=news&ast_xd=a1.123&msclkid=9",
                Some("?utm_source=news"),
            ),
            ("utm_source=news&GCLID=x", Some("utm_source=news")),
            (
                "https://s.example/p?%67clid=X&a=1",
                Some("https://s.example/p?a=1"),
            ),
            (
                "https://s.example/p?q=caf%C3%A9+cr%C3%A8me&gclid=1",
                Some("https://s.example/p?q=caf%C3%A9+cr%C3%A8me"),
            ),
            ("https://shop.example/p?sku=1", None),
            ("https://shop.example/p/gclid", None),
            ("https://shop.example/", None),
        ];
        for (input, expected) in cases {
            assert_eq!(without_params(input).as_deref(), expected, "{input}");
        }
    }

    /// The collector removes the same parameters; a parameter added on one side only would
    /// let the two disagree about what `marketing` consent covers.
    #[test]
    fn the_list_is_the_collector_s() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../assent-core/src/policy/click_ids.rs"
        );
        let source = std::fs::read_to_string(path).expect("the collector's source is beside");
        let start = source.find("const PARAMS").expect("the collector's list");
        let list = &source[start..start + source[start..].find("];").unwrap()];
        let theirs: Vec<&str> = list.split('"').skip(1).step_by(2).collect();
        assert_eq!(theirs, PARAMS);
    }
}
