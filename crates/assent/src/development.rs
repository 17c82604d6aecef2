//! `assent serve` with no configuration: a development project that just works, and that every
//! other command finds again without being told where it is.
//!
//! The keys are made once, at random, and kept in `<data_dir>/development.toml` (with its
//! `data_dir`), so the demo page and any test page keep working across restarts, the file shows
//! a newcomer what a real configuration looks like, and `assent visitors`, `assent export`, …
//! run against the same store with no `--config`.

use std::path::{Path, PathBuf};

use assent_server::config::{self, Problem, Problems, Settings};

const FILE: &str = "development.toml";

/// The data directory without a configuration: `ASSENT_DATA_DIR`, else `./data`.
fn data_dir(env: &impl Fn(&str) -> Option<String>) -> String {
    env("ASSENT_DATA_DIR").unwrap_or_else(|| config::DEFAULT_DATA_DIR.into())
}

/// Where the development project's file is.
pub fn file(env: &impl Fn(&str) -> Option<String>) -> PathBuf {
    Path::new(&data_dir(env)).join(FILE)
}

/// For `assent serve`: the development project, made on the first run, with its keys printed.
pub fn settings(env: impl Fn(&str) -> Option<String>) -> Result<Settings, Problems> {
    let path = file(&env);
    let settings = ensure(&env)?;
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
    println!(
        "  dashboard:   http://{}/dashboard/ (sign in with the admin token)",
        settings.listen
    );
    Ok(settings)
}

/// The development project, made (silently) if there is none yet: `assent demo-data` may run
/// before the first `assent serve`.
pub fn ensure(env: &impl Fn(&str) -> Option<String>) -> Result<Settings, Problems> {
    let path = file(env);
    if !path.exists() {
        write_new(&path, &data_dir(env)).map_err(|e| Problems {
            source: path.display().to_string(),
            problems: vec![Problem {
                line: None,
                message: format!("cannot create the development project: {e}"),
                fix: "make the data directory writable, or set ASSENT_DATA_DIR".into(),
            }],
        })?;
    }
    existing(env)
}

/// For every other command: the development project `assent serve` made, if there is one.
pub fn existing(env: &impl Fn(&str) -> Option<String>) -> Result<Settings, Problems> {
    let path = file(env);
    if !path.exists() {
        return Err(Problems {
            source: path.display().to_string(),
            problems: vec![Problem {
                line: None,
                message: "no --config given, and no development project in this data directory"
                    .into(),
                fix: "run `assent serve` (or scripts/serve) once to make it, set ASSENT_DATA_DIR \
                      to the data directory it used, or pass --config FILE"
                    .into(),
            }],
        });
    }
    let mut settings = config::load(&path)?;
    // Files made before they recorded their data_dir: the directory they are in is it.
    settings.data_dir = data_dir(env).into();
    config::apply_env(&mut settings, env)?;
    Ok(settings)
}

fn write_new(path: &Path, data_dir: &str) -> std::io::Result<()> {
    let hex = || uuid::Uuid::new_v4().simple().to_string();
    let text = format!(
        "# Made by `assent serve` on first run without --config. Copy it as a starting point.\n\
         data_dir = {}\n\
         [[projects]]\n\
         id = \"dev\"\n\
         write_keys = [\"pk_dev_{}\"]\n\
         admin_tokens = [\"sk_dev_{}\"]\n\
         allowed_origins = [\"*\"]\n",
        toml::Value::String(data_dir.to_string()),
        &hex()[..16],
        hex()
    );
    std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))?;
    std::fs::write(path, text)
}
