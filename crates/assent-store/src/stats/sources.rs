//! Where a visit came from, by its referrer: the referring site's well-known name (search
//! engines, social networks), else its host.

/// The host of a URL (`https://www.google.com/search?q=x` → `www.google.com`).
pub(crate) fn host(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let host = rest.split(['/', '?', '#']).next()?;
    let host = host.rsplit_once('@').map(|(_, h)| h).unwrap_or(host);
    let host = host.split(':').next()?;
    (!host.is_empty()).then_some(host)
}

/// The referring page without its query: `news.ycombinator.com/item`.
pub(crate) fn page(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let page = rest.split(['?', '#']).next().unwrap_or_default();
    let page = page.strip_prefix("www.").unwrap_or(page);
    page.trim_end_matches('/').chars().take(120).collect()
}

/// Sites known by a name rather than a host: the host's registrable part is looked up
/// (`google` matches google.com, google.fr, …).
const KNOWN: &[(&str, &str)] = &[
    ("google", "Google"),
    ("bing", "Bing"),
    ("duckduckgo", "DuckDuckGo"),
    ("yahoo", "Yahoo"),
    ("ecosia", "Ecosia"),
    ("qwant", "Qwant"),
    ("yandex", "Yandex"),
    ("baidu", "Baidu"),
    ("brave", "Brave Search"),
    ("facebook", "Facebook"),
    ("fb", "Facebook"),
    ("instagram", "Instagram"),
    ("t", "X (Twitter)"),
    ("twitter", "X (Twitter)"),
    ("x", "X (Twitter)"),
    ("linkedin", "LinkedIn"),
    ("lnkd", "LinkedIn"),
    ("reddit", "Reddit"),
    ("ycombinator", "Hacker News"),
    ("github", "GitHub"),
    ("youtube", "YouTube"),
    ("pinterest", "Pinterest"),
    ("mastodon", "Mastodon"),
    ("bsky", "Bluesky"),
    ("chatgpt", "ChatGPT"),
    ("perplexity", "Perplexity"),
];

/// The well-known name of a campaign's `utm_source` (`google` → `Google`), so that a site's
/// campaigns and its referrals count together.
pub(crate) fn known(utm_source: &str) -> Option<&'static str> {
    let key = utm_source.trim().to_ascii_lowercase();
    KNOWN.iter().find(|(k, _)| *k == key).map(|(_, name)| *name)
}

/// The source a referrer stands for.
pub(crate) fn name(referrer: &str) -> String {
    let Some(host) = host(referrer) else {
        return "Direct / none".into();
    };
    let host = host.to_ascii_lowercase();
    let labels: Vec<&str> = host.split('.').collect();
    // The label before the public suffix: `news.ycombinator.com` → `ycombinator`,
    // `www.google.co.uk` → `google` (two-letter second-level suffixes like co.uk).
    let n = labels.len();
    let second_level = n >= 3
        && labels[n - 1].len() == 2
        && ["co", "com", "org", "net", "ac", "gov", "edu"].contains(&labels[n - 2]);
    let site = match n {
        0 | 1 => None,
        _ if second_level => Some(labels[n - 3]),
        _ => Some(labels[n - 2]),
    };
    if let Some((_, name)) = site.and_then(|s| KNOWN.iter().find(|(key, _)| *key == s)) {
        return (*name).to_string();
    }
    host.strip_prefix("www.").unwrap_or(&host).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn referrers_are_named_by_their_site() {
        assert_eq!(name("https://www.google.fr/search?q=mug"), "Google");
        assert_eq!(name("https://www.google.co.uk/"), "Google");
        assert_eq!(
            name("https://news.ycombinator.com/item?id=1"),
            "Hacker News"
        );
        assert_eq!(name("https://t.co/abc"), "X (Twitter)");
        assert_eq!(name("https://blog.example.org/post"), "blog.example.org");
        assert_eq!(name("https://www.example.org/"), "example.org");
        assert_eq!(name("https://t.example.com/"), "t.example.com");
        assert_eq!(page("https://www.example.org/a/?x=1"), "example.org/a");
        assert_eq!(host("http://shop.test:8080/x"), Some("shop.test"));
        assert_eq!(known("Google"), Some("Google"));
        assert_eq!(known("newsletter"), None);
    }
}
