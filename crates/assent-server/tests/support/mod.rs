//! A real collector on a random port, over a real SQLite file in a temporary directory.
#![allow(dead_code)] // each test file uses its own part of this

use std::net::SocketAddr;

use serde_json::{json, Value};
use tokio::sync::oneshot;

pub const WRITE_KEY: &str = "pk_demo";
pub const ADMIN_TOKEN: &str = "sk_demo_secret";

pub struct TestServer {
    pub url: String,
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
    pub http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with("127.0.0.1:0", "", "").await
    }

    /// `store` is added to the `[store]` table, `project` to the one project's table.
    ///
    /// The project runs in `opt-out` mode unless `project` says otherwise: most tests are about
    /// ingest mechanics and send events without a consent snapshot, which the default opt-in
    /// policy would (rightly) strip of every identifier. Policy tests set the mode they test.
    pub async fn start_with(listen: &str, store: &str, project: &str) -> TestServer {
        Self::start_config(&format!("listen = \"{listen}\""), store, project).await
    }

    /// Like [`start_with`], with `top` the top-level keys (it must set `listen`); it may end
    /// with tables of its own (`[http]`), since `[store]` and the project follow it.
    pub async fn start_config(top: &str, store: &str, project: &str) -> TestServer {
        Self::start_in(tempfile::tempdir().unwrap(), top, store, project).await
    }

    /// Like [`start_config`], on the data of an earlier server (see [`TestServer::stop`]).
    pub async fn start_in(
        dir: tempfile::TempDir,
        top: &str,
        store: &str,
        project: &str,
    ) -> TestServer {
        let mode = if project.contains("mode =") {
            ""
        } else {
            "mode = \"opt-out\""
        };
        let project = format!("{mode}\n{project}");
        let text = format!(
            "data_dir = {:?}\n{top}\n[store]\n{store}\n[[projects]]\nid = \"demo\"\n\
             write_keys = [\"{WRITE_KEY}\"]\nadmin_tokens = [\"{ADMIN_TOKEN}\"]\n{project}\n",
            dir.path().display().to_string()
        );
        let settings = assent_server::config::parse(&text, "test config").unwrap();
        let listener = tokio::net::TcpListener::bind(settings.listen)
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            assent_server::serve(settings, listener, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        let server = TestServer {
            url: format!("http://{addr}"),
            addr,
            dir,
            http: reqwest::Client::new(),
            stop: Some(stop),
            task: Some(task),
        };
        server.wait_until_ready().await;
        server
    }

    /// The store opens inside `serve`; tests that touch the file must not race it.
    async fn wait_until_ready(&self) {
        for _ in 0..200 {
            if let Ok(res) = self.http.get(format!("{}/readyz", self.url)).send().await {
                if res.status() == 200 {
                    return;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("the collector did not become ready within 2 s");
    }

    /// A connection of our own to the store's file, as any SQLite tool would open it, with
    /// every partition attached under the views `events` and `events_json`.
    pub fn db(&self) -> rusqlite::Connection {
        let conn = rusqlite::Connection::open(self.dir.path().join("events.db")).unwrap();
        assent_store::partition::attach_all(&conn, self.dir.path()).unwrap();
        conn
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.db().query_row(sql, [], |r| r.get(0)).unwrap()
    }

    /// Posts `body` with the write key as HTTP Basic user; returns status and JSON answer.
    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let res = self
            .http
            .post(format!("{}{path}", self.url))
            .basic_auth(WRITE_KEY, Some(""))
            .json(body)
            .send()
            .await
            .unwrap();
        answer(res).await
    }

    pub async fn post_raw(
        &self,
        path: &str,
        builder: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> (u16, Value) {
        let req = builder(self.http.post(format!("{}{path}", self.url)));
        answer(req.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap()
    }

    pub async fn stop(mut self) -> tempfile::TempDir {
        let _ = self.stop.take().unwrap().send(());
        self.task.take().unwrap().await.unwrap();
        self.dir
    }
}

pub async fn answer(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    let json =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
    (status, json)
}

pub fn track(message_id: &str) -> Value {
    json!({"type": "track", "event": "Order Completed", "messageId": message_id,
           "anonymousId": "anon-1", "properties": {"total": 42.5}})
}

/// Every file of a store's data directory, partitions included (the keys directory aside).
pub fn store_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for folder in [dir.to_path_buf(), dir.join(assent_store::partition::DIR)] {
        for entry in std::fs::read_dir(folder).into_iter().flatten() {
            let path = entry.unwrap().path();
            if path.is_file() {
                files.push(path);
            }
        }
    }
    files
}

/// Makes every partition of a stopped store `days` older, as if its events had been received
/// that long ago.
pub fn age_partitions(dir: &std::path::Path, days: i64) {
    use assent_store::partition::{self, PartitionDay};
    for day in partition::list(dir) {
        let (from, to) = (day.path(dir), PartitionDay(day.0 - days).path(dir));
        for suffix in ["", "-wal", "-shm"] {
            let from = format!("{}{suffix}", from.display());
            if std::path::Path::new(&from).exists() {
                std::fs::rename(&from, format!("{}{suffix}", to.display())).unwrap();
            }
        }
    }
}
