//! `assent serve` with no configuration: a development project that just works.
//!
//! The keys are made once, at random, and kept in `<data_dir>/development.toml`, so the demo
//! page and any test page keep working across restarts, and the file shows a newcomer what a
//! real configuration looks like.

use std::path::Path;

use assent_server::config::{self, Problem, Problems, Settings};

const FILE: &str = "development.toml";

pub fn settings(env: impl Fn(&str) -> Option<String>) -> Result<Settings, Problems> {
    let data_dir = env("ASSENT_DATA_DIR").unwrap_or_else(|| config::DEFAULT_DATA_DIR.into());
    let path = Path::new(&data_dir).join(FILE);
    if !path.exists() {
        write_new(&path).map_err(|e| Problems {
            source: path.display().to_string(),
            problems: vec![Problem {
                line: None,
                message: format!("cannot create the development project: {e}"),
                fix: "make the data directory writable, or set ASSENT_DATA_DIR".into(),
            }],
        })?;
    }
    let mut settings = config::load(&path)?;
    settings.data_dir = data_dir.into();
    config::apply_env(&mut settings, env)?;
    let project = &settings.projects[0];
    println!(
        "Assent development project (no --config given; keys kept in {})",
        path.display()
    );
    println!("  project:     {}", project.id);
    println!("  write key:   {}", project.write_keys[0]);
    // The server keeps only digests of admin tokens; the file has the plain one.
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let admin_token = text.split('"').find(|s| s.starts_with("sk_dev_"));
    println!("  admin token: {}", admin_token.unwrap_or("(none)"));
    println!("  data:        {}", settings.data_dir.display());
    println!("  demo page:   http://{}/", settings.listen);
    Ok(settings)
}

fn write_new(path: &Path) -> std::io::Result<()> {
    let hex = || uuid::Uuid::new_v4().simple().to_string();
    let text = format!(
        "# Made by `assent serve` on first run without --config. Copy it as a starting point.\n\
         [[projects]]\n\
         id = \"dev\"\n\
         write_keys = [\"pk_dev_{}\"]\n\
         admin_tokens = [\"sk_dev_{}\"]\n\
         allowed_origins = [\"*\"]\n",
        &hex()[..16],
        hex()
    );
    std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))?;
    std::fs::write(path, text)
}
