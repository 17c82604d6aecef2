//! Removing ad click ids and cross-domain ids from the URLs an event carries.

use serde_json::Value;

use super::strip::edit_object;
use crate::Event;

/// Query parameters that identify a click, a visitor or a device to an ad network, and Assent's
/// own cross-domain link.
const PARAMS: &[&str] = &[
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
pub fn strip(event: &mut Event) -> bool {
    let in_context = might_carry(&event.context)
        && edit_object(&mut event.context, |context| {
            match context.get_mut("page") {
                Some(Value::Object(page)) => clean_fields(page),
                _ => false,
            }
        });
    let in_properties =
        might_carry(&event.properties) && edit_object(&mut event.properties, clean_fields);
    in_context || in_properties
}

/// Whether an object's raw JSON could hold a URL with one of [`PARAMS`] in its query. Most
/// events carry none, and parsing every context into a tree to find that out cost a tenth of
/// ingest's CPU; a look at the text rules it out first, and errs only towards the slow path:
/// a parameter is only removed from a query (`?` or `=`), and, unless the text escapes
/// letters (`%67clid`, `\u0067clid`), its name is there, in some letter case.
fn might_carry(raw: &Option<Box<serde_json::value::RawValue>>) -> bool {
    let Some(raw) = raw else { return false };
    let text = raw.get();
    // memchr2 looks at 32 bytes at a time; `str::contains` with two chars decodes each one.
    if memchr::memchr2(b'?', b'=', text.as_bytes()).is_none() {
        return false;
    }
    if text.contains('%') || text.contains("\\u") {
        return true;
    }
    let lower = text.to_ascii_lowercase();
    PARAMS.iter().any(|name| lower.contains(name))
}

fn clean_fields(object: &mut serde_json::Map<String, Value>) -> bool {
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

/// The URL or query string without the listed parameters, or `None` if it had none of them.
/// Works on the query text itself so the rest of the URL is kept byte for byte.
pub fn without_params(text: &str) -> Option<String> {
    let (head, rest) = match text.find('?') {
        Some(i) => (&text[..=i], &text[i + 1..]),
        None if text.contains('=') => ("", text),
        None => return None,
    };
    let (query, fragment) = match rest.find('#') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let kept: Vec<&(String, String)> = pairs
        .iter()
        .filter(|(k, _)| !PARAMS.contains(&k.to_ascii_lowercase().as_str()))
        .collect();
    if kept.len() == pairs.len() {
        return None;
    }
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(kept)
        .finish();
    let head = if query.is_empty() {
        head.trim_end_matches('?')
    } else {
        head
    };
    Some(format!("{head}{query}{fragment}"))
}

#[cfg(test)]
mod tests {
    use super::{strip, without_params};
    use crate::{decode, Limits};

    /// The page URL after `strip`, for an event whose `context.page.url` is `url_json` (JSON).
    fn stripped_url(url_json: &str) -> String {
        let body = format!(
            r#"{{"batch":[{{"type":"page","messageId":"m","context":{{"page":{{"url":{url_json}}}}}}}]}}"#
        );
        let mut event = decode::batch(body.as_bytes(), &Limits::default())
            .unwrap()
            .events
            .remove(0)
            .unwrap();
        strip(&mut event);
        let context: serde_json::Value =
            serde_json::from_str(event.context.unwrap().get()).unwrap();
        context["page"]["url"].as_str().unwrap().to_string()
    }

    #[test]
    fn the_quick_look_at_the_text_never_lets_a_click_id_through() {
        let cases = [
            // Plain, in capitals, percent-encoded, JSON-escaped: all are the same parameter.
            (
                r#""https://s.example/p?a=1&gclid=X""#,
                "https://s.example/p?a=1",
            ),
            (r#""https://s.example/p?GCLID=X""#, "https://s.example/p"),
            (
                r#""https://s.example/p?%67clid=X&a=1""#,
                "https://s.example/p?a=1",
            ),
            (
                r#""https://s.example/p?gclid=X&a=1""#,
                "https://s.example/p?a=1",
            ),
            // Nothing to remove, with and without a query: the URL is kept as sent.
            (
                r#""https://s.example/p?utm_source=news""#,
                "https://s.example/p?utm_source=news",
            ),
            (
                r#""https://s.example/p/gclid""#,
                "https://s.example/p/gclid",
            ),
        ];
        for (url, expected) in cases {
            assert_eq!(stripped_url(url), expected, "{url}");
        }
    }

    #[test]
    fn only_the_listed_parameters_go() {
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
            ("https://shop.example/p?sku=1", None),
            ("https://shop.example/", None),
        ];
        for (input, expected) in cases {
            assert_eq!(without_params(input).as_deref(), expected, "{input}");
        }
    }
}
