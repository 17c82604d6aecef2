//! The demo shop's visitors, made up: where they come from, what they browse with, which
//! consent they give, and the path they take through the shop. The shares are rounded from
//! what small European shops publish: about half accept a fair banner, a third reject it, one
//! in ten never answers.

use assent_core::EventType;
use fastrand::Rng;

/// One thing a visitor did.
pub struct Action {
    pub at_ms: i64,
    pub kind: EventType,
    /// The page path (`page`) or the event name (`track`, `consent`).
    pub name: String,
    pub properties: serde_json::Value,
    pub path: String,
}

/// What a visitor chose in the banner.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    AcceptAll,
    /// Analytics yes, marketing no.
    Custom,
    RejectAll,
    /// The banner was never answered.
    Ignored,
}

/// A visitor of the shop, kept for returning visits.
#[derive(Clone)]
pub struct Visitor {
    pub number: u64,
    pub user_agent: &'static str,
    pub country: &'static str,
    pub choice: Choice,
    pub consent_id: String,
    pub anonymous_id: Option<String>,
    pub gpc: bool,
    pub dnt: bool,
    /// Set once the visitor signed in (an `identify`).
    pub user_id: Option<String>,
}

impl Visitor {
    pub fn new(rng: &mut Rng, number: u64) -> Visitor {
        let choice = pick(
            rng,
            &[
                (Choice::AcceptAll, 52),
                (Choice::RejectAll, 28),
                (Choice::Custom, 9),
                (Choice::Ignored, 11),
            ],
        );
        let identified = matches!(choice, Choice::AcceptAll | Choice::Custom);
        Visitor {
            number,
            user_agent: pick(rng, USER_AGENTS),
            country: pick(rng, COUNTRIES),
            choice,
            consent_id: uuid(rng),
            anonymous_id: identified.then(|| uuid(rng)),
            gpc: rng.u8(0..100) < 7,
            dnt: rng.u8(0..100) < 10,
            user_id: None,
        }
    }

    /// Identifiers may be kept (analytics granted).
    pub fn identified(&self) -> bool {
        self.anonymous_id.is_some()
    }
}

/// A random UUID v4 from the generator, so a seed gives the same data.
pub fn uuid(rng: &mut Rng) -> String {
    let mut bytes = rng.u128(..).to_be_bytes();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

pub fn pick<T: Copy>(rng: &mut Rng, weighted: &[(T, u32)]) -> T {
    let total: u32 = weighted.iter().map(|(_, w)| w).sum();
    let mut at = rng.u32(0..total);
    for (value, weight) in weighted {
        if at < *weight {
            return *value;
        }
        at -= weight;
    }
    weighted[weighted.len() - 1].0
}

const USER_AGENTS: &[(&str, u32)] = &[
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", 24),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", 20),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", 16),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", 10),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", 8),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", 7),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", 5),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", 2),
    ("Mozilla/5.0 (Linux; Android 14; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36", 3),
    ("Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", 3),
];

const COUNTRIES: &[(&str, u32)] = &[
    ("FR", 22),
    ("DE", 16),
    ("US", 14),
    ("GB", 9),
    ("ES", 7),
    ("IT", 6),
    ("NL", 5),
    ("BE", 4),
    ("CA", 3),
    ("CH", 3),
    ("SE", 3),
    ("PL", 3),
    ("JP", 2),
    ("BR", 2),
    ("AU", 1),
];

/// Where a visit comes from: a referrer, and the query string of the page it lands on.
#[derive(Clone, Copy)]
pub struct Arrival {
    pub referrer: &'static str,
    pub search: &'static str,
}

const ARRIVALS: &[(Arrival, u32)] = &[
    (
        Arrival {
            referrer: "",
            search: "",
        },
        30,
    ),
    (
        Arrival {
            referrer: "https://www.google.com/",
            search: "",
        },
        28,
    ),
    (
        Arrival {
            referrer: "https://www.bing.com/",
            search: "",
        },
        3,
    ),
    (
        Arrival {
            referrer: "https://duckduckgo.com/",
            search: "",
        },
        4,
    ),
    (
        Arrival {
            referrer: "https://www.ecosia.org/",
            search: "",
        },
        1,
    ),
    (
        Arrival {
            referrer: "https://m.facebook.com/",
            search: "",
        },
        5,
    ),
    (
        Arrival {
            referrer: "https://www.instagram.com/",
            search: "",
        },
        2,
    ),
    (
        Arrival {
            referrer: "https://t.co/",
            search: "",
        },
        2,
    ),
    (
        Arrival {
            referrer: "https://www.reddit.com/r/BuyItForLife/",
            search: "",
        },
        2,
    ),
    (
        Arrival {
            referrer: "https://news.ycombinator.com/item",
            search: "",
        },
        1,
    ),
    (
        Arrival {
            referrer: "https://github.com/assent/assent",
            search: "",
        },
        1,
    ),
    (
        Arrival {
            referrer: "https://blog.partner.example/gift-guide",
            search: "",
        },
        3,
    ),
    (
        Arrival {
            referrer: "",
            search: "?utm_source=newsletter&utm_medium=email&utm_campaign=november-digest",
        },
        5,
    ),
    (
        Arrival {
            referrer: "",
            search: "?utm_source=newsletter&utm_medium=email&utm_campaign=black-friday",
        },
        3,
    ),
    (
        Arrival {
            referrer: "https://www.google.com/",
            search: "?utm_source=google&utm_medium=cpc&utm_campaign=winter-sale",
        },
        5,
    ),
    (
        Arrival {
            referrer: "https://www.google.com/",
            search: "?utm_source=google&utm_medium=cpc&utm_campaign=brand",
        },
        2,
    ),
    (
        Arrival {
            referrer: "https://m.facebook.com/",
            search: "?utm_source=facebook&utm_medium=social&utm_campaign=winter-sale",
        },
        2,
    ),
];

pub fn arrival(rng: &mut Rng) -> Arrival {
    pick(rng, ARRIVALS)
}

const PRODUCTS: &[(&str, &str, u32)] = &[
    ("MUG-01", "Sunrise mug", 12),
    ("TEE-02", "Lagoon tee", 25),
    ("CAP-03", "Harbour cap", 18),
    ("BAG-04", "Market tote", 29),
    ("SOX-05", "Wool socks", 9),
];

const POSTS: &[&str] = &[
    "/blog/caring-for-wool",
    "/blog/gift-guide",
    "/blog/behind-the-mugs",
];

/// A visit's path through the shop, starting at `start_ms`: pageviews and the shop's events.
pub fn journey(rng: &mut Rng, start_ms: i64, signs_in: bool) -> Vec<Action> {
    let mut out = Vec::new();
    let mut at = start_ms;
    let mut cart: Vec<(&str, u32)> = Vec::new();
    let mut page = pick(
        rng,
        &[
            ("/", 45),
            ("/products", 15),
            ("/products/", 30),
            ("/blog/", 10),
        ],
    )
    .to_string();
    let mut signed_in = false;
    for _ in 0..14 {
        let path = match page.as_str() {
            "/products/" => {
                let (sku, _, _) = PRODUCTS[rng.usize(..PRODUCTS.len())];
                format!("/products/{}", sku.to_ascii_lowercase())
            }
            "/blog/" => POSTS[rng.usize(..POSTS.len())].to_string(),
            other => other.to_string(),
        };
        out.push(action(
            at,
            EventType::Page,
            &path,
            &path,
            serde_json::json!({}),
        ));
        at += rng.i64(4_000..90_000);
        let next = if let Some(sku) = path.strip_prefix("/products/") {
            let (sku, name, price) = PRODUCTS
                .iter()
                .copied()
                .find(|(s, _, _)| s.eq_ignore_ascii_case(sku))
                .unwrap_or(PRODUCTS[0]);
            out.push(action(
                at,
                EventType::Track,
                "Product Viewed",
                &path,
                serde_json::json!({"sku": sku, "name": name, "price": price}),
            ));
            at += rng.i64(2_000..40_000);
            if rng.u8(0..100) < 32 {
                cart.push((sku, price));
                out.push(action(
                    at,
                    EventType::Track,
                    "Product Added",
                    &path,
                    serde_json::json!({"sku": sku, "price": price, "quantity": 1}),
                ));
                at += rng.i64(1_000..20_000);
                pick(rng, &[("/cart", 70), ("/products/", 20), ("", 10)])
            } else {
                pick(
                    rng,
                    &[("/products/", 30), ("/products", 12), ("/", 5), ("", 53)],
                )
            }
        } else {
            match path.as_str() {
                "/" => pick(
                    rng,
                    &[
                        ("/products", 45),
                        ("/products/", 22),
                        ("/blog/", 5),
                        ("", 28),
                    ],
                ),
                "/products" => pick(rng, &[("/products/", 62), ("/", 5), ("", 33)]),
                "/cart" => pick(rng, &[("/checkout", 58), ("/products/", 14), ("", 28)]),
                "/checkout" => {
                    if signs_in && !signed_in {
                        signed_in = true;
                        out.push(action(
                            at,
                            EventType::Identify,
                            "",
                            &path,
                            serde_json::json!({}),
                        ));
                    }
                    let total: u32 = cart.iter().map(|(_, p)| p).sum::<u32>().max(12);
                    out.push(action(
                        at,
                        EventType::Track,
                        "Checkout Started",
                        &path,
                        serde_json::json!({"total": total, "currency": "EUR", "items": cart.len().max(1)}),
                    ));
                    at += rng.i64(20_000..180_000);
                    if rng.u8(0..100) < 64 {
                        out.push(action(
                            at,
                            EventType::Track,
                            "Order Completed",
                            &path,
                            serde_json::json!({
                                "total": total,
                                "currency": "EUR",
                                "payment": pick(rng, &[("card", 70), ("paypal", 22), ("apple-pay", 8)]),
                            }),
                        ));
                        "/checkout/done"
                    } else {
                        ""
                    }
                }
                "/checkout/done" => "",
                _ if path.starts_with("/blog/") => {
                    pick(rng, &[("/", 20), ("/products", 15), ("", 65)])
                }
                _ => "",
            }
        };
        if next.is_empty() {
            break;
        }
        page = next.to_string();
    }
    out
}

fn action(
    at_ms: i64,
    kind: EventType,
    name: &str,
    path: &str,
    properties: serde_json::Value,
) -> Action {
    Action {
        at_ms,
        kind,
        name: name.to_string(),
        properties,
        path: path.to_string(),
    }
}

/// How busy an hour of the day is (UTC, European shoppers): quiet at night, a peak at lunch
/// and another in the evening.
pub const HOURS: [u32; 24] = [
    2, 1, 1, 1, 1, 2, 4, 6, 8, 9, 10, 11, 12, 11, 10, 9, 9, 10, 12, 13, 12, 9, 6, 3,
];
