//! A JetStream cluster of `nats-server` processes on loopback ports, each with its own store
//! directory; a node can be killed (`kill -9`) and started again.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct NatsCluster {
    dir: tempfile::TempDir,
    nodes: Vec<Node>,
}

struct Node {
    config: PathBuf,
    client_port: u16,
    http_port: u16,
    child: Option<Child>,
}

impl NatsCluster {
    /// Starts `size` servers as one JetStream cluster and waits until it has a leader.
    pub fn start(size: usize) -> NatsCluster {
        let dir = crate::server_dir("nats");
        let ports: Vec<(u16, u16, u16)> = (0..size)
            .map(|_| (crate::free_port(), crate::free_port(), crate::free_port()))
            .collect();
        let routes: Vec<String> = ports
            .iter()
            .map(|(_, cluster, _)| format!("nats-route://127.0.0.1:{cluster}"))
            .collect();
        let nodes = ports
            .iter()
            .enumerate()
            .map(|(i, (client, cluster, http))| {
                let name = format!("n{}", i + 1);
                let store = dir.path().join(&name);
                let config = dir.path().join(format!("{name}.conf"));
                let cluster_block = if size > 1 {
                    format!(
                        "cluster {{\n  name: assent\n  listen: 127.0.0.1:{cluster}\n  routes: [{}]\n}}\n",
                        routes.join(", ")
                    )
                } else {
                    String::new()
                };
                std::fs::write(
                    &config,
                    format!(
                        "server_name: {name}\nlisten: 127.0.0.1:{client}\nhttp: 127.0.0.1:{http}\n\
                         jetstream {{\n  store_dir: \"{}\"\n  max_memory_store: 256MB\n  max_file_store: 4GB\n}}\n\
                         {cluster_block}",
                        store.display()
                    ),
                )
                .expect("the node's configuration is written");
                Node {
                    config,
                    client_port: *client,
                    http_port: *http,
                    child: None,
                }
            })
            .collect();
        let mut cluster = NatsCluster { dir, nodes };
        for i in 0..size {
            cluster.spawn_node(i);
        }
        for i in 0..size {
            cluster.wait_for_node(i);
        }
        cluster.wait_for_leader();
        cluster
    }

    /// The client URLs of every node, as a collector's `servers` lists them.
    pub fn urls(&self) -> Vec<String> {
        self.nodes
            .iter()
            .map(|n| format!("nats://127.0.0.1:{}", n.client_port))
            .collect()
    }

    /// The pids of the running nodes.
    pub fn pids(&self) -> Vec<u32> {
        self.nodes
            .iter()
            .filter_map(|n| n.child.as_ref().map(Child::id))
            .collect()
    }

    /// `kill -9` of one node.
    pub fn kill(&mut self, node: usize) {
        if let Some(mut child) = self.nodes[node].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts a node (again) and waits until it answers.
    pub fn start_node(&mut self, node: usize) {
        self.spawn_node(node);
        self.wait_for_node(node);
    }

    fn wait_for_node(&self, node: usize) {
        let port = self.nodes[node].http_port;
        crate::wait_until("nats-server", Duration::from_secs(60), || {
            get(port, "/healthz").is_some()
        });
    }

    fn spawn_node(&mut self, node: usize) {
        let log = std::fs::File::create(self.dir.path().join(format!("n{}.log", node + 1)))
            .expect("the node's log is made");
        let child = Command::new(nats_server())
            .arg("-c")
            .arg(&self.nodes[node].config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("the log file can be shared"))
            .stderr(log)
            .spawn()
            .expect("nats-server starts (Debian's nats-server package: scripts/setup --tests)");
        crate::stale::record_server(self.dir.path(), child.id());
        self.nodes[node].child = Some(child);
    }

    /// Waits until the cluster has elected a JetStream leader.
    pub fn wait_for_leader(&self) {
        crate::wait_until("the JetStream cluster", Duration::from_secs(60), || {
            self.nodes.iter().filter(|n| n.child.is_some()).all(|n| {
                get(n.http_port, "/jsz").is_some_and(|body| {
                    body.contains("\"leader\"") && body.contains("\"meta_cluster\"")
                })
            })
        });
    }

    /// A node's JetStream report (`/jsz` with `query`, e.g. `streams=true`), as JSON text.
    pub fn jsz(&self, node: usize, query: &str) -> Option<String> {
        get(self.nodes[node].http_port, &format!("/jsz?{query}"))
    }

    /// A node's log, for a failing test's message.
    pub fn log(&self, node: usize) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("n{}.log", node + 1)))
            .unwrap_or_default()
    }
}

impl Drop for NatsCluster {
    fn drop(&mut self) {
        for node in 0..self.nodes.len() {
            self.kill(node);
        }
    }
}

fn nats_server() -> String {
    ["/usr/sbin/nats-server", "/usr/bin/nats-server"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .unwrap_or("nats-server")
        .to_string()
}

/// The body of a `GET` on the monitoring port, if it answers 200.
fn get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    let (head, body) = answer.split_once("\r\n\r\n")?;
    (head.split_whitespace().nth(1) == Some("200")).then(|| body.to_string())
}
