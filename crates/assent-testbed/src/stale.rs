//! Servers left behind by a run that was killed: each server directory names the process
//! that made it; one whose process is gone is stopped and removed by the next start.

use std::path::Path;

pub(crate) const PREFIX: &str = "assent-testbed-";
pub(crate) const OWNER: &str = "owner.pid";
/// Pids of the servers a directory started, one per line.
pub(crate) const SERVERS: &str = "servers.pid";

pub(crate) fn clean_up() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let is_ours = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with(PREFIX));
        if is_ours && !owner_alive(&path) {
            stop_servers(&path);
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

fn owner_alive(dir: &Path) -> bool {
    match std::fs::read_to_string(dir.join(OWNER)) {
        Ok(pid) => Path::new(&format!("/proc/{}", pid.trim())).exists(),
        // Being made right now, by another run.
        Err(_) => true,
    }
}

/// Kills every server a directory recorded (`kill -9`: they are throwaway).
pub(crate) fn stop_servers(dir: &Path) {
    let Ok(pids) = std::fs::read_to_string(dir.join(SERVERS)) else {
        return;
    };
    for pid in pids.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
        let _ = std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .stderr(std::process::Stdio::null())
            .status();
    }
}

pub(crate) fn record_server(dir: &Path, pid: u32) {
    use std::io::Write;
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(SERVERS))
    {
        let _ = writeln!(file, "{pid}");
    }
}
