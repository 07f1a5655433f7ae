//! `import "linux/sched" as sched;`: modules come from the embedded `stdlib/` first, then from
//! the pack folders the user added (`-L`, `$RKDUMP_PATH`). Nothing else on disk is reachable.

use super::embedded::STDLIB;
use rhai::{Engine, EvalAltResult, Module, ModuleResolver, Position, Scope, Shared};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

/// The module resolver of the script host.
pub struct Resolver {
    pack_dirs: Vec<PathBuf>,
    cache: Mutex<HashMap<String, Shared<Module>>>,
}

impl Resolver {
    /// Resolves from the stdlib, then these folders.
    pub fn new(pack_dirs: Vec<PathBuf>) -> Self {
        Self {
            pack_dirs,
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn source(&self, path: &str) -> Option<(String, String)> {
        let key = path.trim_end_matches(".rhai");
        if let Some((_, src)) = STDLIB.iter().find(|(p, _)| *p == key) {
            return Some((format!("stdlib/{key}.rhai"), src.to_string()));
        }
        if key.contains("..") || key.starts_with('/') {
            return None;
        }
        self.pack_dirs.iter().find_map(|d| {
            let p = d.join(format!("{key}.rhai"));
            std::fs::read_to_string(&p)
                .ok()
                .map(|s| (p.display().to_string(), s))
        })
    }
}

impl ModuleResolver for Resolver {
    fn resolve(
        &self,
        engine: &Engine,
        _source: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Result<Shared<Module>, Box<EvalAltResult>> {
        if let Some(m) = self.cache.lock().ok().and_then(|c| c.get(path).cloned()) {
            return Ok(m);
        }
        let (name, src) = self
            .source(path)
            .ok_or_else(|| Box::new(EvalAltResult::ErrorModuleNotFound(path.to_string(), pos)))?;
        let mut ast = engine.compile(&src).map_err(|e| {
            Box::new(EvalAltResult::ErrorInModule(
                name.clone(),
                Box::new(EvalAltResult::ErrorParsing(*e.0, e.1)),
                pos,
            ))
        })?;
        ast.set_source(name.as_str());
        let module = Module::eval_ast_as_new(Scope::new(), &ast, engine)
            .map_err(|e| Box::new(EvalAltResult::ErrorInModule(name.clone(), e, pos)))?;
        let shared: Shared<Module> = module.into();
        if let Ok(mut c) = self.cache.lock() {
            c.insert(path.to_string(), shared.clone());
        }
        Ok(shared)
    }
}
