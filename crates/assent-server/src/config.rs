//! The configuration file: what it may say, and an explanation of every mistake in it.
//!
//! The file is read in two passes. TOML and types first (serde reports the first such error
//! with its position), then every rule about meaning (duplicate keys, bad origins, …), all of
//! them at once, each with the line it is on and a fix — so `assent check-config` can list
//! everything wrong in one run instead of one mistake per edit.

use std::collections::HashSet;
use std::fmt;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};

use assent_core::client_address::IpNet;
use assent_core::policy::{CnilExempt, ConsentMode, DntRule, GpcRule, Policy};
use assent_core::IpPolicy;
use assent_store::Durability;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use toml::Spanned;

mod toml_mistakes;

/// A validated configuration, ready to run.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub durability: Durability,
    pub queue_capacity: usize,
    /// How long a commit waits for a lock held by another process (a backup, say) before the
    /// clients are told to retry.
    pub busy_timeout_ms: u64,
    /// Minutes between two runs of the retention sweeper; `0` turns it off (run
    /// `assent retention run` from cron instead).
    pub retention_sweep_minutes: u32,
    /// Where the store keeps its secret keys, when not `data_dir/keys` (see
    /// [`Settings::keys_dir`]).
    pub keys_dir: Option<PathBuf>,
    /// How long a retried event is recognised as a duplicate, at least.
    pub dedupe_window: std::time::Duration,
    /// Where events and privacy records are kept: the embedded SQLite files, or a shared
    /// PostgreSQL database (`[store] backend`, `url`).
    pub store_backend: StoreBackend,
    /// The ingest log collectors publish to and `assent sink` drains (`[queue]`), if any.
    pub queue: Option<assent_nats::QueueOptions>,
    /// Where the daily visitor salts are shared (`[visitor_salts]`).
    pub visitor_salts: SaltsBackend,
    /// Proxies whose `X-Forwarded-For` is believed; empty means the socket's peer is the client.
    pub trusted_proxies: Vec<IpNet>,
    /// A MaxMind-format country database (`.mmdb`); without one, no country is recorded.
    pub country_database: Option<PathBuf>,
    pub web: WebSettings,
    /// Timeouts and the connection limit of the HTTP edge.
    pub http: crate::http_server::HttpLimits,
    pub projects: Vec<ProjectSettings>,
}

/// Where a collector keeps what it stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreBackend {
    /// `data_dir/events.db` and its partitions: one collector per data directory.
    Sqlite,
    /// One database shared by any number of collectors and sinks.
    Postgres { url: String },
}

/// Where a collector gets the day's visitor salt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaltsBackend {
    /// Made by this process, kept in its memory only.
    Memory,
    /// Shared by every collector through a NATS key-value bucket kept in memory.
    Nats {
        servers: Vec<String>,
        replicas: usize,
    },
}

#[derive(Debug, Clone)]
pub struct WebSettings {
    /// Served at `/sdk/`: the browser tracker's build.
    pub sdk_dir: PathBuf,
    /// Served at `/sdk/replay/`: the session-replay recorder's build and the playback player.
    pub replay_dir: PathBuf,
    /// Served at `/sdk/banner/`: the consent banner's build and its language packs.
    pub banner_dir: PathBuf,
    /// Served at `/`: the demo shop page.
    pub demo_dir: PathBuf,
    /// Served at `/dashboard/`: the dashboard's build.
    pub dashboard_dir: PathBuf,
    /// Whether `/` and `/demo-config.js` are served at all.
    pub demo: bool,
}

#[derive(Debug, Clone)]
pub struct ProjectSettings {
    pub id: String,
    pub write_keys: Vec<String>,
    /// Tokens for `/v1/admin`, kept as SHA-256 digests only.
    pub admin_tokens: Vec<AdminToken>,
    /// Read-only tokens: the dashboard and `/v1/stats`, nothing else (same shapes).
    pub viewer_tokens: Vec<AdminToken>,
    /// `None` means any origin (`"*"`).
    pub allowed_origins: Option<Vec<String>>,
    /// What may be stored of each event (docs/architecture.md): consent mode, GPC, DNT, IP, preset.
    pub policy: Policy,
    /// The server-set id cookie of `GET /v1/id`.
    pub id_cookie: IdCookie,
    /// Snowplow app ids (`aid`) whose events belong to this project: Snowplow trackers send
    /// no write key, so the app id chooses the project.
    pub snowplow_app_ids: Vec<String>,
    /// How long each kind of data is kept.
    pub retention: Retention,
}

/// An admin token as the server keeps it: a name (the audit trail's actor) and the SHA-256
/// of its value. The value itself is not kept, whether the file held it plain or hashed.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminToken {
    pub name: String,
    pub sha256: [u8; 32],
}

impl fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AdminToken({:?})", self.name)
    }
}

impl AdminToken {
    /// A token given in plain text.
    pub fn from_secret(name: impl Into<String>, secret: &str) -> AdminToken {
        AdminToken {
            name: name.into(),
            sha256: Sha256::digest(secret.as_bytes()).into(),
        }
    }
}

/// Days each kind of data is kept, per project (`[projects.retention]`); `None` keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub events_days: Option<u32>,
    pub consent_days: Option<u32>,
    /// Session replays (stored by the replay feature; default 30 days).
    pub replays_days: u32,
    /// Identity links (anonymousId ↔ userId) not seen again; by default the events' period.
    pub identity_links_days: Option<u32>,
}

/// The CNIL exemption allows keeping audience data at most 25 months.
pub const CNIL_MAX_RETENTION_DAYS: u32 = 760;

impl Default for Retention {
    fn default() -> Self {
        Retention {
            events_days: None,
            consent_days: None,
            replays_days: 30,
            identity_links_days: None,
        }
    }
}

/// Attributes of the HttpOnly id cookie the collector sets (`GET /v1/id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdCookie {
    /// Lifetime, capped at 400 days (Chrome's cap) and at 395 days (13 months) under the
    /// CNIL-exempt preset.
    pub max_age_days: u16,
    /// `None`: the collector's own host.
    pub domain: Option<String>,
    /// `None`: `Secure` when the request came over HTTPS through a trusted proxy.
    pub secure: Option<bool>,
}

/// One mistake in a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line in the file, when the mistake has a place.
    pub line: Option<usize>,
    pub message: String,
    pub fix: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}\n    fix: {}", self.message, self.fix),
            None => write!(f, "{}\n    fix: {}", self.message, self.fix),
        }
    }
}

/// Every mistake found in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problems {
    pub source: String,
    pub problems: Vec<Problem>,
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        writeln!(
            f,
            "{}: {n} problem{}",
            self.source,
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            writeln!(f, "  {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "./data";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<Spanned<String>>,
    data_dir: Option<PathBuf>,
    #[serde(default)]
    trusted_proxies: Vec<Spanned<String>>,
    country_database: Option<PathBuf>,
    #[serde(default)]
    store: StoreSection,
    #[serde(default)]
    web: WebSection,
    #[serde(default)]
    http: HttpSection,
    #[serde(default)]
    projects: Vec<ProjectSection>,
    queue: Option<QueueSection>,
    visitor_salts: Option<SaltsSection>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum BackendName {
    Sqlite,
    Postgres,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum QueueName {
    Nats,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum SaltsName {
    Memory,
    Nats,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QueueSection {
    backend: Spanned<QueueName>,
    servers: Option<Spanned<Vec<Spanned<String>>>>,
    stream: Option<Spanned<String>>,
    consumer: Option<Spanned<String>>,
    replicas: Option<Spanned<u32>>,
    ack_wait_seconds: Option<Spanned<u64>>,
    max_age_days: Option<Spanned<u32>>,
    max_bytes: Option<Spanned<i64>>,
    batch: Option<Spanned<u32>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SaltsSection {
    backend: Spanned<SaltsName>,
    servers: Option<Spanned<Vec<Spanned<String>>>>,
    replicas: Option<Spanned<u32>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct HttpSection {
    header_timeout_ms: Option<Spanned<u64>>,
    request_timeout_ms: Option<Spanned<u64>>,
    max_connections: Option<Spanned<u64>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct StoreSection {
    durability: Option<DurabilityName>,
    queue_capacity: Option<Spanned<i64>>,
    busy_timeout_ms: Option<u64>,
    retention_sweep_minutes: Option<u32>,
    keys_dir: Option<PathBuf>,
    dedupe_window: Option<Spanned<String>>,
    backend: Option<Spanned<BackendName>>,
    url: Option<Spanned<String>>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum DurabilityName {
    Full,
    Normal,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct WebSection {
    sdk_dir: Option<PathBuf>,
    replay_dir: Option<PathBuf>,
    banner_dir: Option<PathBuf>,
    demo_dir: Option<PathBuf>,
    dashboard_dir: Option<PathBuf>,
    demo: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProjectSection {
    id: Spanned<String>,
    write_keys: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    admin_tokens: Vec<Spanned<AdminTokenSpec>>,
    #[serde(default)]
    viewer_tokens: Vec<Spanned<AdminTokenSpec>>,
    allowed_origins: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    ip: IpPolicy,
    #[serde(default)]
    mode: ConsentMode,
    required_categories: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    gpc: GpcRule,
    #[serde(default)]
    dnt: DntRule,
    preset: Option<PresetName>,
    cnil_allowed_events: Option<Spanned<Vec<String>>>,
    id_cookie_days: Option<u16>,
    id_cookie_domain: Option<String>,
    id_cookie_secure: Option<bool>,
    #[serde(default)]
    snowplow_app_ids: Vec<Spanned<String>>,
    retention: Option<RetentionSection>,
}

/// `"sk_..."`, `{ name = "dpo", token = "sk_..." }` or `{ name = "dpo", sha256 = "<hex>" }`.
#[derive(Deserialize)]
#[serde(untagged)]
enum AdminTokenSpec {
    Plain(String),
    Named(NamedToken),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NamedToken {
    name: String,
    token: Option<String>,
    sha256: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RetentionSection {
    events_days: Option<Spanned<u32>>,
    consent_days: Option<Spanned<u32>>,
    replays_days: Option<Spanned<u32>>,
    identity_links_days: Option<Spanned<u32>>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
enum PresetName {
    CnilExempt,
}

/// Parses and validates a configuration file's text. `source` names it in messages.
///
/// ```
/// use assent_server::config;
/// let text = "listen = \"127.0.0.1:9000\"\n[[projects]]\nid = \"shop\"\nwrite_keys = [\"pk_shop\"]\n";
/// let settings = config::parse(text, "assent.toml").unwrap();
/// assert_eq!(settings.projects[0].id, "shop");
///
/// let broken = "listen = \"localhost\"\n[[projects]]\nid = \"shop\"\nwrite_keys = []\n";
/// let problems = config::parse(broken, "assent.toml").unwrap_err();
/// assert_eq!(problems.problems.len(), 2);
/// assert_eq!(problems.problems[0].line, Some(1));
/// ```
pub fn parse(text: &str, source: &str) -> Result<Settings, Problems> {
    let fail = |problems| Problems {
        source: source.to_string(),
        problems,
    };
    // Mistakes of syntax and type first, every one; then, on what could be read, every rule
    // about meaning.
    let read = toml_mistakes::read_all::<FileConfig>(text);
    let Some(file) = read.file else {
        return Err(fail(read.problems));
    };
    let mut check = Checker {
        text,
        problems: vec![],
    };
    let settings = check.settings(file);
    // A key left out for its own mistake is not also missing: a rule about it in its table
    // would only repeat that mistake.
    let repeats = |p: &Problem| {
        let table = p.line.and_then(|l| {
            let offset = text.split_inclusive('\n').take(l - 1).map(str::len).sum();
            toml_mistakes::table(text, offset)
        });
        read.left_out.iter().any(|(t, key)| {
            Some(t.as_str()) == table.or(Some(""))
                && (p.message.contains(key) || p.fix.contains(key))
        })
    };
    let mut problems = read.problems;
    problems.extend(check.problems.into_iter().filter(|p| !repeats(p)));
    // Problems are found table by table; they are listed in the file's order (those of the
    // whole file last).
    problems.sort_by_key(|p| p.line.unwrap_or(usize::MAX));
    if problems.is_empty() {
        Ok(settings)
    } else {
        Err(fail(problems))
    }
}

/// Reads, parses and validates a file.
pub fn load(path: &Path) -> Result<Settings, Problems> {
    let source = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| Problems {
        source: source.clone(),
        problems: vec![Problem {
            line: None,
            message: format!("cannot read the file: {e}"),
            fix: "check the path given to --config".into(),
        }],
    })?;
    parse(&text, &source)
}

impl Settings {
    /// Where the store keeps its secret keys: `[store] keys_dir`, or `data_dir/keys`. Keys
    /// kept apart from the databases make a copy of the databases alone unable to confirm a
    /// guessed identifier (`docs/privacy.md`).
    pub fn keys_dir(&self) -> PathBuf {
        self.keys_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("keys"))
    }
}

/// Applies `ASSENT_LISTEN` and `ASSENT_DATA_DIR`, which win over the file.
pub fn apply_env(
    settings: &mut Settings,
    env: impl Fn(&str) -> Option<String>,
) -> Result<(), Problems> {
    if let Some(listen) = env("ASSENT_LISTEN") {
        settings.listen = listen.parse().map_err(|_| Problems {
            source: "environment".into(),
            problems: vec![Problem {
                line: None,
                message: format!("ASSENT_LISTEN={listen:?} is not an address and port"),
                fix: "use an IP address and a port, e.g. ASSENT_LISTEN=0.0.0.0:8080".into(),
            }],
        })?;
    }
    if let Some(dir) = env("ASSENT_DATA_DIR") {
        settings.data_dir = dir.into();
    }
    // The database password can stay out of the file.
    if let (Some(url), StoreBackend::Postgres { .. }) =
        (env("ASSENT_POSTGRES_URL"), &settings.store_backend)
    {
        settings.store_backend = StoreBackend::Postgres { url };
    }
    Ok(())
}

struct Checker<'a> {
    text: &'a str,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    fn problem(&mut self, span: Option<Range<usize>>, message: String, fix: impl Into<String>) {
        let line = span.map(|s| line_of(self.text, s.start));
        self.problems.push(Problem {
            line,
            message,
            fix: fix.into(),
        });
    }

    fn settings(&mut self, file: FileConfig) -> Settings {
        let listen = match &file.listen {
            None => DEFAULT_LISTEN.parse().expect("the default is an address"),
            Some(listen) => listen.get_ref().parse().unwrap_or_else(|_| {
                self.problem(
                    Some(listen.span()),
                    format!("`listen = {:?}` is not an IP address and port", listen.get_ref()),
                    "write e.g. listen = \"127.0.0.1:8080\" (local only) or \"0.0.0.0:8080\" (all interfaces)",
                );
                DEFAULT_LISTEN.parse().expect("the default is an address")
            }),
        };
        let store_backend = self.store_backend(&file.store);
        let queue_capacity = match file.store.queue_capacity {
            None => 4096,
            Some(n) if (1..=1_000_000).contains(n.get_ref()) => *n.get_ref() as usize,
            Some(n) => {
                self.problem(
                    Some(n.span()),
                    format!("`queue_capacity = {}` is out of range", n.get_ref()),
                    "use a number of requests from 1 to 1000000; the default is 4096",
                );
                4096
            }
        };
        let projects = self.projects(file.projects);
        let http = self.http(&file.http);
        let dedupe_window = self.dedupe_window(file.store.dedupe_window.as_ref());
        let queue = file
            .queue
            .as_ref()
            .and_then(|q| self.queue(q, &store_backend));
        let visitor_salts = self.visitor_salts(file.visitor_salts.as_ref(), queue.as_ref());
        let trusted_proxies = file
            .trusted_proxies
            .iter()
            .filter_map(|p| {
                let text = p.get_ref().trim();
                let parsed = text
                    .parse::<IpNet>()
                    .or_else(|_| text.parse::<std::net::IpAddr>().map(IpNet::from));
                if parsed.is_err() {
                    self.problem(
                        Some(p.span()),
                        format!("trusted proxy {text:?} is not an IP address or network"),
                        "write an address or a CIDR network, e.g. \"10.0.0.1\" or \"10.0.0.0/8\"",
                    );
                }
                parsed.ok()
            })
            .collect();
        Settings {
            listen,
            keys_dir: file.store.keys_dir,
            dedupe_window,
            store_backend,
            queue,
            visitor_salts,
            data_dir: file.data_dir.unwrap_or_else(|| DEFAULT_DATA_DIR.into()),
            durability: match file.store.durability {
                Some(DurabilityName::Normal) => Durability::Normal,
                Some(DurabilityName::Full) | None => Durability::Full,
            },
            queue_capacity,
            busy_timeout_ms: file.store.busy_timeout_ms.unwrap_or(5000),
            retention_sweep_minutes: file.store.retention_sweep_minutes.unwrap_or(60),
            trusted_proxies,
            country_database: file.country_database,
            web: WebSettings {
                sdk_dir: file
                    .web
                    .sdk_dir
                    .unwrap_or_else(|| "sdk/browser/dist".into()),
                replay_dir: file
                    .web
                    .replay_dir
                    .unwrap_or_else(|| "sdk/replay/dist".into()),
                banner_dir: file
                    .web
                    .banner_dir
                    .unwrap_or_else(|| "sdk/banner/dist".into()),
                demo_dir: file.web.demo_dir.unwrap_or_else(|| "demo".into()),
                dashboard_dir: file
                    .web
                    .dashboard_dir
                    .unwrap_or_else(|| "dashboard/dist".into()),
                demo: file.web.demo.unwrap_or(true),
            },
            http,
            projects,
        }
    }

    /// `[store] backend` and `url`: SQLite unless PostgreSQL is asked for, with its URL.
    fn store_backend(&mut self, store: &StoreSection) -> StoreBackend {
        let backend = store.backend.as_ref().map(|b| *b.get_ref());
        match (backend, &store.url) {
            (Some(BackendName::Postgres), Some(url)) => {
                let text = url.get_ref().trim();
                let looks_right = text.starts_with("postgres://")
                    || text.starts_with("postgresql://")
                    || text.contains('=');
                if !looks_right {
                    self.problem(
                        Some(url.span()),
                        format!("`url = {text:?}` is not a PostgreSQL connection string"),
                        "write url = \"postgres://assent@db.internal:5432/assent\" (or \"host=… user=… dbname=…\")",
                    );
                }
                StoreBackend::Postgres {
                    url: text.to_string(),
                }
            }
            (Some(BackendName::Postgres), None) => {
                self.problem(
                    store.backend.as_ref().map(Spanned::span),
                    "`backend = \"postgres\"` needs the database's address".into(),
                    "add url = \"postgres://assent@db.internal:5432/assent\" to [store] (or set ASSENT_POSTGRES_URL)",
                );
                StoreBackend::Sqlite
            }
            (_, Some(url)) => {
                self.problem(
                    Some(url.span()),
                    "`url` is set but the store is SQLite".into(),
                    "add backend = \"postgres\" to [store], or remove url",
                );
                StoreBackend::Sqlite
            }
            (_, None) => StoreBackend::Sqlite,
        }
    }

    /// `[queue]`: NATS servers and the stream's shape.
    fn queue(
        &mut self,
        q: &QueueSection,
        store: &StoreBackend,
    ) -> Option<assent_nats::QueueOptions> {
        if *store == StoreBackend::Sqlite {
            self.problem(
                Some(q.backend.span()),
                "a [queue] needs a shared store for its sinks to write to".into(),
                "set backend = \"postgres\" and url = \"postgres://…\" in [store], or remove [queue]",
            );
        }
        let servers = self.nats_servers(q.servers.as_ref(), Some(q.backend.span()), "[queue]")?;
        let mut options = assent_nats::QueueOptions::new(servers);
        if let Some(replicas) = &q.replicas {
            if !(1..=5).contains(replicas.get_ref()) {
                self.problem(
                    Some(replicas.span()),
                    format!("`replicas = {}` is out of range", replicas.get_ref()),
                    "use 1 to 5 (JetStream's limit); 3 keeps serving when one node is lost",
                );
            }
            options.replicas = *replicas.get_ref() as usize;
        }
        for (name, value) in [("stream", &q.stream), ("consumer", &q.consumer)] {
            let Some(value) = value else { continue };
            let v = value.get_ref();
            if v.is_empty()
                || !v
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                self.problem(
                    Some(value.span()),
                    format!("`{name} = {v:?}` is not a JetStream name"),
                    "use letters, digits, '-' and '_' only",
                );
            }
            match name {
                "stream" => options.stream = v.clone(),
                _ => options.consumer = v.clone(),
            }
        }
        if let Some(wait) = &q.ack_wait_seconds {
            if !(1..=3600).contains(wait.get_ref()) {
                self.problem(
                    Some(wait.span()),
                    format!("`ack_wait_seconds = {}` is out of range", wait.get_ref()),
                    "use 1 to 3600 seconds; the default is 30",
                );
            }
            options.ack_wait = std::time::Duration::from_secs(*wait.get_ref());
        }
        if let Some(days) = &q.max_age_days {
            if !(1..=365).contains(days.get_ref()) {
                self.problem(
                    Some(days.span()),
                    format!("`max_age_days = {}` is out of range", days.get_ref()),
                    "use 1 to 365 days: how long events wait for a sink before they are lost; the default is 7",
                );
            }
            options.max_age = std::time::Duration::from_secs(u64::from(*days.get_ref()) * 86_400);
        }
        if let Some(bytes) = &q.max_bytes {
            options.max_bytes = *bytes.get_ref();
        }
        if let Some(batch) = &q.batch {
            if !(1..=10_000).contains(batch.get_ref()) {
                self.problem(
                    Some(batch.span()),
                    format!("`batch = {}` is out of range", batch.get_ref()),
                    "use 1 to 10000 messages a sink commits at once; the default is 500",
                );
            }
            options.batch = *batch.get_ref() as usize;
        }
        Some(options)
    }

    /// `[visitor_salts]`: shared through NATS when there is a queue, unless said otherwise.
    fn visitor_salts(
        &mut self,
        section: Option<&SaltsSection>,
        queue: Option<&assent_nats::QueueOptions>,
    ) -> SaltsBackend {
        let Some(section) = section else {
            return match queue {
                Some(q) => SaltsBackend::Nats {
                    servers: q.servers.clone(),
                    replicas: q.replicas,
                },
                None => SaltsBackend::Memory,
            };
        };
        match section.backend.get_ref() {
            SaltsName::Memory => SaltsBackend::Memory,
            SaltsName::Nats => {
                let servers = match (&section.servers, queue) {
                    (None, Some(q)) => Some(q.servers.clone()),
                    (servers, _) => self.nats_servers(
                        servers.as_ref(),
                        Some(section.backend.span()),
                        "[visitor_salts]",
                    ),
                };
                let replicas = section
                    .replicas
                    .as_ref()
                    .map(|r| *r.get_ref() as usize)
                    .or(queue.map(|q| q.replicas))
                    .unwrap_or(3);
                match servers {
                    Some(servers) => SaltsBackend::Nats { servers, replicas },
                    None => SaltsBackend::Memory,
                }
            }
        }
    }

    /// A non-empty list of `nats://host:port` addresses.
    fn nats_servers(
        &mut self,
        servers: Option<&Spanned<Vec<Spanned<String>>>>,
        table: Option<Range<usize>>,
        name: &str,
    ) -> Option<Vec<String>> {
        let Some(servers) = servers.filter(|s| !s.get_ref().is_empty()) else {
            self.problem(
                servers.map(Spanned::span).or(table),
                format!("{name} has no NATS servers"),
                "add servers = [\"nats://10.0.0.1:4222\", \"nats://10.0.0.2:4222\", \"nats://10.0.0.3:4222\"]",
            );
            return None;
        };
        for server in servers.get_ref() {
            let v = server.get_ref();
            let rest = v.strip_prefix("nats://").unwrap_or(v);
            let host_port = rest.rsplit('@').next().unwrap_or(rest);
            if !host_port
                .rsplit_once(':')
                .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok())
            {
                self.problem(
                    Some(server.span()),
                    format!("{v:?} is not a NATS server address"),
                    "write nats://host:port, e.g. \"nats://10.0.0.1:4222\"",
                );
            }
        }
        Some(
            servers
                .get_ref()
                .iter()
                .map(|s| s.get_ref().clone())
                .collect(),
        )
    }

    /// `"7d"` or `"36h"`: from one hour to 90 days.
    fn dedupe_window(&mut self, value: Option<&Spanned<String>>) -> std::time::Duration {
        const DEFAULT: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);
        let Some(value) = value else {
            return DEFAULT;
        };
        let text = value.get_ref().trim();
        let hours = match text.char_indices().last() {
            Some((at, 'd')) => text[..at].trim().parse::<u64>().ok().map(|d| d * 24),
            Some((at, 'h')) => text[..at].trim().parse::<u64>().ok(),
            _ => None,
        };
        match hours {
            Some(h) if (1..=90 * 24).contains(&h) => std::time::Duration::from_secs(h * 3600),
            _ => {
                self.problem(
                    Some(value.span()),
                    format!("`dedupe_window = {text:?}` is not a duration from 1h to 90d"),
                    "write a number of days or hours, e.g. dedupe_window = \"7d\" (the default) or \"36h\"",
                );
                DEFAULT
            }
        }
    }

    fn http(&mut self, section: &HttpSection) -> crate::http_server::HttpLimits {
        let defaults = crate::http_server::HttpLimits::default();
        let mut in_range = |value: &Option<Spanned<u64>>,
                            name: &str,
                            range: std::ops::RangeInclusive<u64>,
                            default: u64,
                            unit: &str| match value {
            None => default,
            Some(v) if range.contains(v.get_ref()) => *v.get_ref(),
            Some(v) => {
                self.problem(
                    Some(v.span()),
                    format!("`{name} = {}` is out of range", v.get_ref()),
                    format!(
                        "use {unit} from {} to {}; the default is {default}",
                        range.start(),
                        range.end()
                    ),
                );
                default
            }
        };
        let ms = |d: std::time::Duration| d.as_millis() as u64;
        let header = in_range(
            &section.header_timeout_ms,
            "header_timeout_ms",
            100..=600_000,
            ms(defaults.header_timeout),
            "milliseconds",
        );
        let request = in_range(
            &section.request_timeout_ms,
            "request_timeout_ms",
            100..=3_600_000,
            ms(defaults.request_timeout),
            "milliseconds",
        );
        let connections = in_range(
            &section.max_connections,
            "max_connections",
            1..=1_000_000,
            defaults.max_connections as u64,
            "a number of connections",
        );
        crate::http_server::HttpLimits {
            header_timeout: std::time::Duration::from_millis(header),
            request_timeout: std::time::Duration::from_millis(request),
            max_connections: connections as usize,
        }
    }

    fn projects(&mut self, sections: Vec<ProjectSection>) -> Vec<ProjectSettings> {
        if sections.is_empty() {
            self.problem(
                None,
                "there is no [[projects]] table, so no write key would be accepted".into(),
                "add one:\n      [[projects]]\n      id = \"web\"\n      write_keys = [\"pk_...\"]\n      admin_tokens = [\"sk_...\"]",
            );
        }
        let mut ids = HashSet::new();
        let mut keys = HashSet::new();
        let mut app_ids = HashSet::new();
        // Tokens are compared by digest: a hashed one may equal a plain one elsewhere.
        let mut tokens_seen: HashSet<[u8; 32]> = HashSet::new();
        let mut token_names: HashSet<String> = HashSet::new();
        let mut tokens = |kind: &'static str,
                          of: fn(&ProjectSection) -> &Vec<Spanned<AdminTokenSpec>>|
         -> Vec<Vec<AdminToken>> {
            sections
            .iter()
            .map(|p| {
                of(p)
                    .iter()
                    .enumerate()
                    .filter_map(|(i, t)| {
                        let token = self.admin_token(p.id.get_ref(), kind, i, t)?;
                        if !tokens_seen.insert(token.sha256) {
                            self.problem(
                                Some(t.span()),
                                format!("admin token {:?} is listed twice", token.name),
                                "a token opens one project only: give each project (and each person) its own token",
                            );
                        } else if !token_names.insert(token.name.clone()) {
                            self.problem(
                                Some(t.span()),
                                format!("admin token name {:?} is used twice", token.name),
                                "names are what the audit trail records: give each token its own",
                            );
                        }
                        Some(token)
                    })
                    .collect()
            })
            .collect()
        };
        let admin_tokens = tokens("admin", |p| &p.admin_tokens);
        let viewer_tokens = tokens("viewer", |p| &p.viewer_tokens);
        let all_tokens: HashSet<[u8; 32]> = admin_tokens
            .iter()
            .chain(&viewer_tokens)
            .flatten()
            .map(|t| t.sha256)
            .collect();
        let mut admin_tokens = admin_tokens.into_iter();
        let mut viewer_tokens = viewer_tokens.into_iter();
        sections
            .into_iter()
            .map(|p| {
                let id = p.id.get_ref();
                let valid_id = !id.is_empty()
                    && id.len() <= 64
                    && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
                if !valid_id {
                    self.problem(
                        Some(p.id.span()),
                        format!("project id {id:?} is not a valid id"),
                        "use 1 to 64 letters, digits, '-' or '_', e.g. id = \"web-shop\"",
                    );
                } else if !ids.insert(id.clone()) {
                    self.problem(
                        Some(p.id.span()),
                        format!("project id {id:?} is used twice"),
                        "give each [[projects]] table its own id",
                    );
                }
                let write_keys = p.write_keys.as_ref();
                if write_keys.is_none_or(|k| k.get_ref().is_empty()) {
                    self.problem(
                        Some(write_keys.map_or(p.id.span(), Spanned::span)),
                        format!("project {id:?} has no write key"),
                        "add write_keys = [\"pk_...\"]: the public key its pages send events with",
                    );
                }
                for key in write_keys.map(Spanned::get_ref).into_iter().flatten() {
                    self.secret(key, "write key");
                    if !keys.insert(key.get_ref().clone()) {
                        self.problem(
                            Some(key.span()),
                            format!("write key {:?} is listed twice", key.get_ref()),
                            "each write key must belong to one project only; remove the copy",
                        );
                    }
                    if all_tokens.contains(&<[u8; 32]>::from(Sha256::digest(key.get_ref().as_bytes()))) {
                        self.problem(
                            Some(key.span()),
                            format!("{:?} is both a write key and an admin token", key.get_ref()),
                            "write keys ship in public web pages; give the admin token a different, secret value",
                        );
                    }
                }
                let policy = self.policy(&p);
                let retention = self.retention(&p, policy.cnil_exempt.is_some());
                for app_id in &p.snowplow_app_ids {
                    self.snowplow_app_id(app_id, &mut app_ids);
                }
                let allowed_origins = p.allowed_origins.map(|origins| self.origins(origins));
                ProjectSettings {
                    id: id.clone(),
                    write_keys: p
                        .write_keys
                        .map(|k| k.into_inner().into_iter().map(Spanned::into_inner).collect())
                        .unwrap_or_default(),
                    admin_tokens: admin_tokens.next().unwrap_or_default(),
                    viewer_tokens: viewer_tokens.next().unwrap_or_default(),
                    allowed_origins: allowed_origins.flatten(),
                    id_cookie: IdCookie {
                        max_age_days: p
                            .id_cookie_days
                            .unwrap_or(365)
                            .min(if policy.cnil_exempt.is_some() { 395 } else { 400 }),
                        domain: p.id_cookie_domain.clone(),
                        secure: p.id_cookie_secure,
                    },
                    policy,
                    snowplow_app_ids: p
                        .snowplow_app_ids
                        .into_iter()
                        .map(Spanned::into_inner)
                        .collect(),
                    retention,
                }
            })
            .collect()
    }

    /// One admin token, named (plain tokens are named `<project>-admin-<n>`).
    fn admin_token(
        &mut self,
        project: &str,
        kind: &str,
        index: usize,
        spec: &Spanned<AdminTokenSpec>,
    ) -> Option<AdminToken> {
        const SHAPES: &str = "write \"sk_...\", { name = \"dpo\", token = \"sk_...\" } or { name = \"dpo\", sha256 = \"<64 hex digits>\" }";
        let span = Some(spec.span());
        let (name, secret, sha256, named) = match spec.get_ref() {
            AdminTokenSpec::Plain(secret) => (
                format!("{project}-{kind}-{}", index + 1),
                Some(secret),
                None,
                false,
            ),
            AdminTokenSpec::Named(t) => (t.name.clone(), t.token.as_ref(), t.sha256.as_ref(), true),
        };
        let name_ok = !named
            || !name.is_empty()
                && name.len() <= 64
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c));
        if !name_ok {
            self.problem(
                span.clone(),
                format!("{kind} token name {name:?} is not a valid name"),
                "use 1 to 64 letters, digits, '-', '_', '.' or '@', e.g. name = \"dpo\"",
            );
            return None;
        }
        match (secret, sha256) {
            (Some(secret), None) => {
                self.secret(
                    &Spanned::new(spec.span(), secret.clone()),
                    &format!("{kind} token"),
                );
                Some(AdminToken::from_secret(name, secret))
            }
            (None, Some(hex)) => match parse_sha256(hex) {
                Some(sha256) => Some(AdminToken { name, sha256 }),
                None => {
                    self.problem(
                        span,
                        format!("sha256 of {kind} token {name:?} is not 64 hex digits"),
                        "write the token's SHA-256 in hex, e.g. from `printf %s \"$TOKEN\" | sha256sum`",
                    );
                    None
                }
            },
            _ => {
                self.problem(
                    span,
                    format!("{kind} token {name:?} needs exactly one of `token` and `sha256`"),
                    SHAPES,
                );
                None
            }
        }
    }

    fn retention(&mut self, p: &ProjectSection, cnil: bool) -> Retention {
        let Some(section) = &p.retention else {
            return Retention {
                events_days: cnil.then_some(CNIL_MAX_RETENTION_DAYS),
                consent_days: cnil.then_some(CNIL_MAX_RETENTION_DAYS),
                identity_links_days: cnil.then_some(CNIL_MAX_RETENTION_DAYS),
                ..Retention::default()
            };
        };
        let mut days = |value: &Option<Spanned<u32>>, key: &str, capped: bool| {
            let v = value.as_ref()?;
            let n = *v.get_ref();
            if n == 0 {
                self.problem(
                    Some(v.span()),
                    format!("`{key} = 0` would delete everything at once"),
                    format!(
                        "give a number of days of at least 1, or remove `{key}` to keep the data"
                    ),
                );
            } else if capped && n > CNIL_MAX_RETENTION_DAYS {
                self.problem(
                    Some(v.span()),
                    format!("`{key} = {n}` is over the 25 months the CNIL-exempt preset allows"),
                    format!("write {key} = {CNIL_MAX_RETENTION_DAYS} (25 months) or less, or remove the preset"),
                );
            }
            Some(n)
        };
        let events_days = days(&section.events_days, "events_days", cnil);
        let consent_days = days(&section.consent_days, "consent_days", cnil);
        let replays_days = days(&section.replays_days, "replays_days", cnil);
        let identity_links_days = days(&section.identity_links_days, "identity_links_days", cnil);
        let events_days = events_days.or(cnil.then_some(CNIL_MAX_RETENTION_DAYS));
        Retention {
            events_days,
            consent_days: consent_days.or(cnil.then_some(CNIL_MAX_RETENTION_DAYS)),
            replays_days: replays_days.unwrap_or(30),
            // A link is only needed to find events: it goes when they would.
            identity_links_days: identity_links_days.or(events_days),
        }
    }

    fn policy(&mut self, p: &ProjectSection) -> Policy {
        let required = match &p.required_categories {
            None => vec!["analytics".to_string()],
            Some(list) => {
                if list.get_ref().is_empty() || list.get_ref().iter().any(|c| c.trim().is_empty()) {
                    self.problem(
                        Some(list.span()),
                        "required_categories is empty or names an empty category".into(),
                        "list the consent categories identifiers need, e.g. [\"analytics\"] (the default)",
                    );
                }
                list.get_ref().clone()
            }
        };
        let cnil_exempt = match (p.preset, &p.cnil_allowed_events) {
            (Some(PresetName::CnilExempt), events) => Some(CnilExempt {
                allowed_events: events
                    .as_ref()
                    .map(|e| e.get_ref().clone())
                    .unwrap_or_default(),
            }),
            (None, Some(events)) => {
                self.problem(
                    Some(events.span()),
                    "cnil_allowed_events is set but the project has no preset".into(),
                    "add preset = \"cnil-exempt\", or remove cnil_allowed_events",
                );
                None
            }
            (None, None) => None,
        };
        Policy {
            mode: p.mode,
            required,
            ip: p.ip,
            gpc: p.gpc,
            dnt: p.dnt,
            cnil_exempt,
        }
    }

    /// An app id is what a Snowplow tracker sends as `aid`; it must name one project only.
    fn snowplow_app_id(&mut self, app_id: &Spanned<String>, seen: &mut HashSet<String>) {
        let v = app_id.get_ref();
        if v.is_empty() || v.len() > 255 || v.chars().any(char::is_control) {
            self.problem(
                Some(app_id.span()),
                format!("snowplow app id {v:?} is empty, too long or has control characters"),
                "use the appId your Snowplow tracker is created with, e.g. snowplow_app_ids = [\"shop-web\"]",
            );
        } else if !seen.insert(v.clone()) {
            self.problem(
                Some(app_id.span()),
                format!("snowplow app id {v:?} is listed twice"),
                "each app id chooses one project: list it in one [[projects]] table only",
            );
        }
    }

    fn secret(&mut self, value: &Spanned<String>, what: &str) {
        let v = value.get_ref();
        if v.trim().is_empty() || v.chars().any(|c| c.is_whitespace() || c == ':') {
            self.problem(
                Some(value.span()),
                format!("{what} {v:?} is empty or contains spaces or ':'"),
                "use letters, digits, '_' and '-' only (':' separates user and password in HTTP Basic auth)",
            );
        }
    }

    /// `None` when the list allows every origin.
    fn origins(&mut self, origins: Vec<Spanned<String>>) -> Option<Vec<String>> {
        if origins.iter().any(|o| o.get_ref() == "*") {
            return None;
        }
        for o in &origins {
            let v = o.get_ref();
            let rest = v
                .strip_prefix("https://")
                .or_else(|| v.strip_prefix("http://"));
            match rest {
                Some(host) if !host.is_empty() && !host.contains('/') => {}
                Some(host) if host.ends_with('/') && !host.trim_end_matches('/').contains('/') => {
                    self.problem(
                        Some(o.span()),
                        format!("origin {v:?} ends with '/'"),
                        format!("browsers send origins without a path: write {:?}", v.trim_end_matches('/')),
                    )
                }
                _ => self.problem(
                    Some(o.span()),
                    format!("{v:?} is not an origin"),
                    "write scheme and host (and port if not the default), e.g. \"https://shop.example\", or \"*\" for any",
                ),
            }
        }
        Some(origins.into_iter().map(Spanned::into_inner).collect())
    }
}

fn parse_sha256(hex: &str) -> Option<[u8; 32]> {
    let hex = hex.trim();
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<Problem> {
        parse(text, "test.toml")
            .expect_err("the config has a mistake")
            .problems
    }

    const VALID: &str = r#"
listen = "127.0.0.1:8080"
data_dir = "./data"
[[projects]]
id = "demo"
write_keys = ["pk_demo"]
admin_tokens = ["sk_demo"]
allowed_origins = ["*"]
"#;

    #[test]
    fn the_documented_example_is_valid() {
        let s = parse(VALID, "test.toml").unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(s.projects[0].write_keys, ["pk_demo"]);
        assert_eq!(s.projects[0].allowed_origins, None);
        assert_eq!(s.projects[0].policy, Policy::default());
    }

    #[test]
    fn a_misspelt_key_gets_its_line_and_a_suggestion() {
        let p = problems("lisen = \"127.0.0.1:8080\"\n");
        assert_eq!(p[0].line, Some(1));
        assert!(
            p[0].message.contains("unknown field `lisen`"),
            "{}",
            p[0].message
        );
        assert_eq!(p[0].fix, "did you mean `listen`?");
    }

    #[test]
    fn a_wrong_type_is_explained() {
        let p = problems("listen = 8080\n");
        assert_eq!(p[0].line, Some(1));
        assert!(p[0].message.contains("invalid type"), "{}", p[0].message);
    }

    #[test]
    fn every_meaning_mistake_is_listed_at_once_with_its_line() {
        let text = r#"listen = "localhost:80"
[[projects]]
id = "a b"
write_keys = ["pk_1", "pk_1"]
admin_tokens = ["pk_1"]
allowed_origins = ["https://shop.example/", "shop.example"]
[[projects]]
id = "empty"
"#;
        let p = problems(text);
        let lines: Vec<_> = p.iter().map(|p| (p.line, p.message.as_str())).collect();
        assert_eq!(
            lines,
            [
                (
                    Some(1),
                    "`listen = \"localhost:80\"` is not an IP address and port"
                ),
                (Some(3), "project id \"a b\" is not a valid id"),
                (Some(4), "\"pk_1\" is both a write key and an admin token"),
                (Some(4), "write key \"pk_1\" is listed twice"),
                (Some(4), "\"pk_1\" is both a write key and an admin token"),
                (Some(6), "origin \"https://shop.example/\" ends with '/'"),
                (Some(6), "\"shop.example\" is not an origin"),
                (Some(8), "project \"empty\" has no write key"),
            ]
        );
        assert!(p[5].fix.contains("\"https://shop.example\""));
    }

    #[test]
    fn the_privacy_policy_is_read_per_project() {
        let text = r#"
[[projects]]
id = "eu"
write_keys = ["pk_eu"]
mode = "opt-in"
gpc = "opt-out"
dnt = "deny-analytics"
ip = "drop"
preset = "cnil-exempt"
cnil_allowed_events = ["Signed Up"]
[[projects]]
id = "us"
write_keys = ["pk_us"]
mode = "opt-out"
required_categories = ["analytics", "functional"]
"#;
        let s = parse(text, "test.toml").unwrap();
        let eu = &s.projects[0].policy;
        assert_eq!(
            (eu.mode, eu.gpc, eu.dnt, eu.ip),
            (
                ConsentMode::OptIn,
                GpcRule::OptOut,
                DntRule::DenyAnalytics,
                IpPolicy::Drop
            )
        );
        assert_eq!(
            eu.cnil_exempt.as_ref().unwrap().allowed_events,
            ["Signed Up"]
        );
        let us = &s.projects[1].policy;
        assert_eq!(
            (us.mode, us.required.as_slice()),
            (
                ConsentMode::OptOut,
                ["analytics".to_string(), "functional".to_string()].as_slice()
            )
        );

        let p = problems("trusted_proxies = [\"10.0.0.0/8\", \"proxy.local\"]\n[[projects]]\nid = \"x\"\nwrite_keys = [\"pk\"]\n");
        assert_eq!((p.len(), p[0].line), (1, Some(1)));
        assert!(p[0].message.contains("\"proxy.local\""));
        let p = problems(
            "[[projects]]\nid = \"x\"\nwrite_keys = [\"pk\"]\ncnil_allowed_events = [\"A\"]\n",
        );
        assert_eq!((p[0].line, p[0].fix.contains("preset")), (Some(4), true));
        let p = problems("[[projects]]\nid = \"x\"\nwrite_keys = [\"pk\"]\nmode = \"maybe\"\n");
        assert!(
            p[0].message.contains("unknown variant `maybe`"),
            "{}",
            p[0].message
        );
    }

    #[test]
    fn snowplow_app_ids_choose_one_project_each() {
        let text = format!("{VALID}snowplow_app_ids = [\"shop-web\", \"shop-app\"]\n");
        let s = parse(&text, "test.toml").unwrap();
        assert_eq!(s.projects[0].snowplow_app_ids, ["shop-web", "shop-app"]);
        assert!(parse(VALID, "test.toml").unwrap().projects[0]
            .snowplow_app_ids
            .is_empty());

        let text = r#"[[projects]]
id = "a"
write_keys = ["pk_a"]
snowplow_app_ids = ["web", ""]
[[projects]]
id = "b"
write_keys = ["pk_b"]
snowplow_app_ids = ["web"]
"#;
        let p = problems(text);
        let lines: Vec<_> = p.iter().map(|p| (p.line, p.message.as_str())).collect();
        assert_eq!(
            lines,
            [
                (
                    Some(4),
                    "snowplow app id \"\" is empty, too long or has control characters"
                ),
                (Some(8), "snowplow app id \"web\" is listed twice"),
            ]
        );
    }

    #[test]
    fn admin_tokens_may_be_named_and_kept_as_sha256_digests() {
        let digest = "c7c4aa55e4aa8d8c2fea2ea1a4b8f2b0b5f5c6e39e0de0b7e6c1d0f6f6a7d2e1";
        let text = format!(
            "[[projects]]\nid = \"shop\"\nwrite_keys = [\"pk\"]\nadmin_tokens = [\"sk_plain\", \
             {{ name = \"dpo\", token = \"sk_dpo\" }}, {{ name = \"ops\", sha256 = \"{digest}\" }}]\n"
        );
        let s = parse(&text, "test.toml").unwrap();
        let tokens = &s.projects[0].admin_tokens;
        let names: Vec<&str> = tokens.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["shop-admin-1", "dpo", "ops"]);
        assert_eq!(tokens[1], AdminToken::from_secret("dpo", "sk_dpo"));
        assert_eq!(tokens[2].sha256[0], 0xc7);
        assert!(
            !format!("{tokens:?}").contains("sk_"),
            "tokens never show in debug output"
        );
    }

    #[test]
    fn admin_token_mistakes_are_explained() {
        let text = r#"[[projects]]
id = "a"
write_keys = ["pk_a"]
admin_tokens = [{ name = "dpo", token = "sk_same" }, { name = "x", sha256 = "abc" }]
[[projects]]
id = "b"
write_keys = ["pk_b"]
admin_tokens = ["sk_same", { name = "both", token = "t", sha256 = "t" }, { name = "dpo", token = "sk_other" }]
"#;
        let p = problems(text);
        let lines: Vec<_> = p.iter().map(|p| (p.line, p.message.as_str())).collect();
        assert_eq!(
            lines,
            [
                (Some(4), "sha256 of admin token \"x\" is not 64 hex digits"),
                (Some(8), "admin token \"b-admin-1\" is listed twice"),
                (
                    Some(8),
                    "admin token \"both\" needs exactly one of `token` and `sha256`"
                ),
                (Some(8), "admin token name \"dpo\" is used twice"),
            ]
        );
        let p = problems("[[projects]]\nid = \"a\"\nwrite_keys = [\"pk\"]\nadmin_tokens = [42]\n");
        assert!(p[0].fix.contains("sha256 = "), "{}", p[0].fix);
    }

    #[test]
    fn retention_is_per_project_and_capped_at_25_months_under_the_cnil_preset() {
        let text = format!(
            "{VALID}[projects.retention]\nevents_days = 90\nconsent_days = 1825\n\
             [[projects]]\nid = \"fr\"\nwrite_keys = [\"pk_fr\"]\npreset = \"cnil-exempt\"\n[store]\nretention_sweep_minutes = 15\n"
        );
        let s = parse(&text, "test.toml").unwrap();
        assert_eq!(
            s.projects[0].retention,
            Retention {
                events_days: Some(90),
                consent_days: Some(1825),
                replays_days: 30,
                identity_links_days: Some(90),
            }
        );
        // The preset keeps 25 months when nothing is said.
        assert_eq!(s.projects[1].retention.events_days, Some(760));
        assert_eq!(s.projects[1].retention.identity_links_days, Some(760));
        assert_eq!(s.projects[1].retention.consent_days, Some(760));
        assert_eq!(s.retention_sweep_minutes, 15);
        assert_eq!(
            parse(VALID, "test.toml").unwrap().retention_sweep_minutes,
            60
        );

        let p = problems(
            "[[projects]]\nid = \"fr\"\nwrite_keys = [\"pk\"]\npreset = \"cnil-exempt\"\n\
             [projects.retention]\nevents_days = 800\nconsent_days = 0\n",
        );
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].line, Some(6));
        assert!(
            p[0].message.contains("over the 25 months"),
            "{}",
            p[0].message
        );
        assert!(p[0].fix.contains("events_days = 760"), "{}", p[0].fix);
        assert_eq!(p[1].line, Some(7));
        let p = problems(&format!("{VALID}[projects.retention]\nevent_days = 3\n"));
        assert_eq!(p[0].fix, "did you mean `events_days`?");
    }

    #[test]
    fn a_shared_store_and_a_queue_are_read_and_their_mistakes_explained() {
        let text = format!(
            "{VALID}[store]\nbackend = \"postgres\"\nurl = \"postgres://assent@db/assent\"\n\
             [queue]\nbackend = \"nats\"\nservers = [\"nats://10.0.0.1:4222\", \"10.0.0.2:4222\"]\nreplicas = 3\n"
        );
        let s = parse(&text, "test.toml").unwrap();
        assert_eq!(
            s.store_backend,
            StoreBackend::Postgres {
                url: "postgres://assent@db/assent".into()
            }
        );
        let queue = s.queue.unwrap();
        assert_eq!((queue.servers.len(), queue.replicas), (2, 3));
        assert_eq!(
            s.visitor_salts,
            SaltsBackend::Nats {
                servers: queue.servers.clone(),
                replicas: 3
            },
            "with a queue, salts are shared through it"
        );
        let plain = parse(VALID, "test.toml").unwrap();
        assert_eq!(
            (plain.store_backend, plain.queue, plain.visitor_salts),
            (StoreBackend::Sqlite, None, SaltsBackend::Memory)
        );

        let p = problems(&format!("{VALID}[store]\nbackend = \"postgres\"\n"));
        assert_eq!(p[0].line, Some(10));
        assert!(p[0].fix.contains("url = "), "{}", p[0].fix);
        let p = problems(&format!(
            "{VALID}[queue]\nbackend = \"nats\"\nservers = [\"nats://box\"]\nreplicas = 7\n"
        ));
        let messages: Vec<&str> = p.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "a [queue] needs a shared store for its sinks to write to",
                "\"nats://box\" is not a NATS server address",
                "`replicas = 7` is out of range",
            ]
        );
    }

    #[test]
    fn no_projects_is_a_mistake() {
        let p = problems("listen = \"127.0.0.1:8080\"\n");
        assert!(p[0].message.contains("no [[projects]]"));
    }

    #[test]
    fn environment_overrides_win() {
        let mut s = parse(VALID, "test.toml").unwrap();
        apply_env(&mut s, |k| match k {
            "ASSENT_LISTEN" => Some("0.0.0.0:9999".into()),
            "ASSENT_DATA_DIR" => Some("/var/lib/assent".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(s.listen.to_string(), "0.0.0.0:9999");
        assert_eq!(s.data_dir, PathBuf::from("/var/lib/assent"));
        let err = apply_env(&mut s, |k| (k == "ASSENT_LISTEN").then(|| "nope".into())).unwrap_err();
        assert!(err.to_string().contains("ASSENT_LISTEN=\"nope\""));
    }
}
