//! Script packs: a folder with `pack.toml` (`name`, `version`, `description`, `api` — the
//! lowest script API version it needs) and `.rhai` files; each script becomes a command.
//! The analyzers in `scripts/` are built in the same way from the binary.

use super::{RegistryCell, ScriptHost, ScriptOptions, API_VERSION};
use crate::commands::Command;
use crate::error::{Error, Result};
use crate::session::Session;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A pack's manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackInfo {
    /// Pack name.
    pub name: String,
    /// Pack version.
    pub version: String,
    /// One line about it.
    pub description: String,
    /// Lowest script API version it needs.
    pub api: u32,
    /// Its folder (`None` for the built-in scripts).
    pub dir: Option<PathBuf>,
}

/// Reads `key = "value"` / `key = 1` lines of a `pack.toml` (the subset packs use).
pub fn parse_manifest(text: &str) -> PackInfo {
    let mut p = PackInfo::default();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = v.trim().trim_matches('"').to_string();
        match k.trim() {
            "name" => p.name = v,
            "version" => p.version = v,
            "description" => p.description = v,
            "api" | "min_api" | "rkdump_api" => p.api = v.parse().unwrap_or(0),
            _ => {}
        }
    }
    p
}

/// A script that runs as a command.
pub struct ScriptCommand {
    name: &'static str,
    summary: &'static str,
    usage: &'static str,
    source: String,
    origin: String,
    pack: Arc<PackInfo>,
    registry: RegistryCell,
    options: ScriptOptions,
}

/// First comment lines of a script: (summary, usage text).
fn header(source: &str) -> (String, String) {
    let lines: Vec<&str> = source
        .lines()
        .take_while(|l| l.trim_start().starts_with("//"))
        .map(|l| {
            l.trim_start()
                .trim_start_matches('/')
                .trim_start_matches('!')
                .trim()
        })
        .collect();
    let summary = lines.first().map(|s| s.to_string()).unwrap_or_default();
    (summary, lines.join("\n"))
}

impl ScriptCommand {
    /// A command named `name` running `source`.
    pub fn new(
        name: &str,
        source: String,
        origin: String,
        pack: Arc<PackInfo>,
        registry: RegistryCell,
        options: ScriptOptions,
    ) -> Self {
        let (summary, usage) = header(&source);
        // Command metadata lives as long as the registry, which lives for the process.
        Self {
            name: Box::leak(name.to_string().into_boxed_str()),
            summary: Box::leak(summary.into_boxed_str()),
            usage: Box::leak(usage.into_boxed_str()),
            source,
            origin,
            pack,
            registry,
            options,
        }
    }
    /// Where the script came from (file path or `scripts/NAME.rhai` built in).
    pub fn origin(&self) -> &str {
        &self.origin
    }
    /// Its pack.
    pub fn pack(&self) -> &PackInfo {
        &self.pack
    }
}

impl Command for ScriptCommand {
    fn name(&self) -> &'static str {
        self.name
    }
    fn summary(&self) -> &'static str {
        self.summary
    }
    fn usage(&self) -> &'static str {
        self.usage
    }
    fn run(&self, session: &Session, args: &[String], out: &mut dyn Write) -> Result<()> {
        if self.pack.api > API_VERSION {
            return Err(Error::Usage(format!(
                "{}: pack '{}' needs script API {} (this rkdump has {API_VERSION})",
                self.name, self.pack.name, self.pack.api
            )));
        }
        let session = session_arc(session)?;
        let (host, capture) =
            ScriptHost::captured(session, self.registry.clone(), self.options.clone());
        // `rkdump --json`: scripts whose usage offers `--json` get it, as if typed.
        let mut args = args.to_vec();
        if self.options.json && self.usage.contains("--json") && !args.iter().any(|a| a == "--json")
        {
            args.push("--json".into());
        }
        let result = host.run(&self.origin, &self.source, &args);
        host.print_summary();
        out.write_all(capture.text().as_bytes())?;
        result.map(|_| ()).map_err(|e| Error::Usage(e.to_string()))
    }
}

/// The `Arc` a session lives in (scripts hold the session for the length of a run).
fn session_arc(session: &Session) -> Result<Arc<Session>> {
    session
        .self_arc()
        .ok_or_else(|| Error::Usage("scripts need a shared session".into()))
}

/// Commands for every `.rhai` file of the pack in `dir`.
pub fn load_pack(
    dir: &Path,
    registry: &RegistryCell,
    options: &ScriptOptions,
) -> Result<Vec<ScriptCommand>> {
    let manifest = dir.join("pack.toml");
    let mut info = match std::fs::read_to_string(&manifest) {
        Ok(t) => parse_manifest(&t),
        Err(_) => PackInfo {
            name: dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            ..PackInfo::default()
        },
    };
    info.dir = Some(dir.to_path_buf());
    let info = Arc::new(info);
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::Usage(format!("{}: {e}", dir.display())))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "rhai"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let Some(stem) = f.file_stem().map(|s| s.to_string_lossy().into_owned()) else {
            continue;
        };
        let source = std::fs::read_to_string(&f)
            .map_err(|e| Error::Usage(format!("{}: {e}", f.display())))?;
        out.push(ScriptCommand::new(
            &stem,
            source,
            f.display().to_string(),
            info.clone(),
            registry.clone(),
            options.clone(),
        ));
    }
    Ok(out)
}

/// Commands for the analyzers built into the binary (`scripts/`).
pub fn builtin_scripts(registry: &RegistryCell, options: &ScriptOptions) -> Vec<ScriptCommand> {
    let info = Arc::new(PackInfo {
        name: "rkdump".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        description: "analyzers shipped with rkdump".into(),
        api: API_VERSION,
        dir: None,
    });
    super::embedded::SCRIPTS
        .iter()
        .map(|(name, src)| {
            ScriptCommand::new(
                name,
                src.to_string(),
                format!("scripts/{name}.rhai"),
                info.clone(),
                registry.clone(),
                options.clone(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_and_header() {
        let p =
            parse_manifest("name = \"team\"\nversion = \"1.2\" # x\napi = 2\ndescription=\"d\"\n");
        assert_eq!(
            (p.name.as_str(), p.version.as_str(), p.api),
            ("team", "1.2", 2)
        );
        let (s, u) = header("// hello: says hi\n// usage: hello [-v]\nprint(1);");
        assert_eq!(s, "hello: says hi");
        assert!(u.contains("usage: hello [-v]"));
    }
}
