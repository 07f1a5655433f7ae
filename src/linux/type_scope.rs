//! Types across the vmlinux and the modules: which file's DWARF answers a type name.
//!
//! Rules, in order:
//! 1. `module:type` (`"dm_round_robin:struct path_info"`) names the module whose definition
//!    is wanted (its debuginfo is loaded on first need).
//! 2. Otherwise a complete definition beats a declaration: the vmlinux answers when it
//!    defines the type; when it only declares it (`struct mapped_device`, defined in dm_mod),
//!    the modules are searched in `modules` list order (most recently loaded first), loading
//!    their debuginfo as needed, and the first complete definition wins. The answer does not
//!    depend on which module debuginfo happened to be loaded before.
//! 3. With an address hint (an object read at an address inside a module's memory), that
//!    module's own definition is preferred where the vmlinux has none.
//!
//! Lazy: no module debuginfo is opened while the vmlinux defines the type asked for.
//! A value keeps the [`TypeScope`] its type belongs to; [`TypeScope::target`] gives the
//! [`Target`] to read it with.
//!
//! Sits beside `modules`; must not import `commands`, `script` or `repl`.

use crate::debuginfo::{Type, TypeId, TypeIndex};
use crate::error::{Error, Result};
use crate::linux::module::{ModuleDebug, ModuleTarget};
use crate::session::Session;
use crate::value::{Target, Value};
use std::sync::Arc;

/// The file whose DWARF a [`TypeId`] belongs to.
#[derive(Clone, Default)]
pub enum TypeScope {
    /// The vmlinux.
    #[default]
    Vmlinux,
    /// A module's debuginfo.
    Module(Arc<ModuleDebug>),
}

impl std::fmt::Debug for TypeScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TypeScope::Vmlinux => write!(f, "vmlinux"),
            TypeScope::Module(d) => write!(f, "module {}", d.module),
        }
    }
}

impl TypeScope {
    /// The type index of this scope.
    pub fn types<'a>(&'a self, s: &'a Session) -> Result<&'a TypeIndex> {
        match self {
            TypeScope::Vmlinux => s.types(),
            TypeScope::Module(d) => Ok(&d.types),
        }
    }

    /// The module's name, `None` for the vmlinux.
    pub fn module_name(&self) -> Option<&str> {
        match self {
            TypeScope::Vmlinux => None,
            TypeScope::Module(d) => Some(&d.module),
        }
    }

    /// A value-layer target that reads memory through `s` and types from this scope.
    pub fn target<'a>(&self, s: &'a Session) -> ScopedTarget<'a> {
        match self {
            TypeScope::Vmlinux => ScopedTarget::Vmlinux(s),
            TypeScope::Module(d) => ScopedTarget::Module(ModuleTarget::new(s, d.clone())),
        }
    }
}

/// A type together with the file it comes from.
#[derive(Debug, Clone)]
pub struct ScopedType {
    /// The file.
    pub scope: TypeScope,
    /// The type within that file's index.
    pub id: TypeId,
}

impl ScopedType {
    /// A vmlinux type.
    pub fn vmlinux(id: TypeId) -> Self {
        Self {
            scope: TypeScope::Vmlinux,
            id,
        }
    }
    /// The type index the id belongs to.
    pub fn types<'a>(&'a self, s: &'a Session) -> Result<&'a TypeIndex> {
        self.scope.types(s)
    }
    /// A target to read values of this type with.
    pub fn target<'a>(&self, s: &'a Session) -> ScopedTarget<'a> {
        self.scope.target(s)
    }
    /// The C spelling of the type.
    pub fn type_name(&self, s: &Session) -> String {
        self.types(s)
            .map(|t| t.type_name(self.id))
            .unwrap_or_default()
    }
    /// Its size in bytes.
    pub fn size(&self, s: &Session) -> Result<u64> {
        Ok(self.types(s)?.size_of(self.id)?)
    }
}

/// The target of a [`TypeScope`]: the session itself for the vmlinux, a [`ModuleTarget`] for
/// a module. Dereferences to `dyn Target`.
pub enum ScopedTarget<'a> {
    /// The vmlinux's types.
    Vmlinux(&'a Session),
    /// A module's types.
    Module(ModuleTarget<'a>),
}

impl<'a> std::ops::Deref for ScopedTarget<'a> {
    type Target = dyn Target + 'a;
    fn deref(&self) -> &Self::Target {
        match self {
            ScopedTarget::Vmlinux(s) => *s,
            ScopedTarget::Module(m) => m,
        }
    }
}

/// Splits a module selector off a type name: `"dm_round_robin:struct path_info"` gives
/// `(Some("dm_round_robin"), "struct path_info")`; a name without one gives `(None, name)`.
pub fn split_module_selector(spec: &str) -> (Option<&str>, &str) {
    let spec = spec.trim();
    match spec.split_once(':') {
        Some((m, rest))
            if !m.is_empty()
                && !rest.trim().is_empty()
                && m.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') =>
        {
            (Some(m), rest.trim())
        }
        _ => (None, spec),
    }
}

/// Whether `id`'s innermost type (through pointers, arrays, typedefs) is a complete type of `t`.
fn is_complete(t: &TypeIndex, id: TypeId) -> bool {
    t.declaration_only(t.core_type(id)).is_none()
}

impl Session {
    /// The type called `spec` (`"struct mapped_device"`, `"pid_t"`, `"struct dm_table *"`,
    /// `"dm_round_robin:struct path_info"`), following the rules of this module.
    pub fn lookup_type(&self, spec: &str) -> Result<ScopedType> {
        self.lookup_type_near(spec, None)
    }

    /// Like [`lookup_type`](Self::lookup_type), for an object at `addr`: where the vmlinux
    /// lacks a definition, the module whose memory holds `addr` answers first.
    pub fn lookup_type_near(&self, spec: &str, addr: Option<u64>) -> Result<ScopedType> {
        let no_type = || Error::Kernel(format!("no type named '{}'", spec.trim()));
        let (module, name) = split_module_selector(spec);
        if let Some(m) = module {
            let d = self.module_debuginfo_or_why(m)?;
            let id = d.types.find_type(name).ok_or_else(no_type)?;
            if is_complete(&d.types, id) {
                return Ok(ScopedType {
                    scope: TypeScope::Module(d),
                    id,
                });
            }
            // The module only declares it: the definition elsewhere, in the module's shape.
            return self.lookup_type_near(name, addr);
        }
        let vm = self.types()?;
        let found = vm.find_type(name);
        if let Some(id) = found.filter(|&id| is_complete(vm, id)) {
            return Ok(ScopedType::vmlinux(id));
        }
        if let Some(st) = self.module_definition(name, addr) {
            return Ok(st);
        }
        found.map(ScopedType::vmlinux).ok_or_else(no_type)
    }

    /// The first of several spellings that names a type (`struct x`, then the bare `x` as a
    /// typedef): a complete vmlinux type by any spelling first, so that no module debuginfo
    /// is opened for a name the vmlinux knows; then each spelling by the full rules.
    pub fn lookup_type_first(&self, specs: &[String]) -> Result<ScopedType> {
        if let Ok(vm) = self.types() {
            for spec in specs {
                if split_module_selector(spec).0.is_some() {
                    continue;
                }
                if let Some(id) = vm.find_type(spec).filter(|&id| is_complete(vm, id)) {
                    return Ok(ScopedType::vmlinux(id));
                }
            }
        }
        let mut first_err = None;
        for spec in specs {
            match self.lookup_type(spec) {
                Ok(t) => return Ok(t),
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        Err(first_err.unwrap_or_else(|| Error::Kernel("no type name given".into())))
    }

    /// Whether a type called `spec` exists (a complete definition, or a declaration when
    /// nothing defines it).
    pub fn type_exists(&self, spec: &str) -> bool {
        self.lookup_type(spec).is_ok()
    }

    /// The debuginfo of module `name`, or an error saying why there is none.
    fn module_debuginfo_or_why(&self, name: &str) -> Result<Arc<ModuleDebug>> {
        let table = self.modules()?;
        if table.find(name).is_none() {
            return Err(Error::Kernel(format!("{name}: no such module is loaded")));
        }
        self.module_debuginfo(name).ok_or_else(|| {
            Error::Kernel(
                table
                    .debuginfo_problem(name)
                    .unwrap_or_else(|| format!("{name}: no debuginfo found")),
            )
        })
    }

    /// The first complete definition of `name` in the modules: the module holding `addr`
    /// first, then `modules` list order. Answers are remembered per name.
    fn module_definition(&self, name: &str, addr: Option<u64>) -> Option<ScopedType> {
        let table = self.modules().ok()?;
        let release = self.release_cached();
        let bare = ["struct ", "union ", "enum "]
            .iter()
            .find_map(|k| name.strip_prefix(k))
            .unwrap_or(name);
        let defines = |m: &str| -> Option<ScopedType> {
            // Building a module's type index costs far more than looking for the name in its
            // string section: only modules that may name the type are indexed.
            if !table.may_define(&release, m, bare) {
                return None;
            }
            let d = self.module_debuginfo(m)?;
            let id = d.types.find_type(name)?;
            is_complete(&d.types, id).then(|| ScopedType {
                scope: TypeScope::Module(d.clone()),
                id,
            })
        };
        if let Some(m) = addr.and_then(|a| table.containing(a)) {
            if let Some(st) = defines(&m.name) {
                return Some(st);
            }
        }
        if let Some(answer) = table.remembered_type(name) {
            let (module, id) = answer?;
            let d = self.module_debuginfo(&module)?;
            return Some(ScopedType {
                scope: TypeScope::Module(d),
                id,
            });
        }
        let found = table.modules.iter().find_map(|m| defines(&m.name));
        table.remember_type(
            name,
            found
                .as_ref()
                .and_then(|st| Some((st.scope.module_name()?.to_string(), st.id))),
        );
        found
    }

    /// The complete definition of a type that `scope` only declares (a pointer member to
    /// `struct mapped_device` read with the vmlinux's types), `None` when `id` is complete
    /// or nothing defines it. `addr` (where the object lies) picks the module as in
    /// [`lookup_type_near`](Self::lookup_type_near).
    pub fn complete_type(
        &self,
        scope: &TypeScope,
        id: TypeId,
        addr: Option<u64>,
    ) -> Option<ScopedType> {
        let types = scope.types(self).ok()?;
        let tag = types.declaration_only(id)?;
        if !matches!(scope, TypeScope::Vmlinux) {
            let vm = self.types().ok()?;
            if let Some(v) = vm.find_type(&tag).filter(|&v| is_complete(vm, v)) {
                return Some(ScopedType::vmlinux(v));
            }
        }
        self.module_definition(&tag, addr)
    }

    /// `v` (of `scope`) with its type completed where it is, or points to, a struct, union
    /// or enum that `scope` only declares: the value in the scope of the definition. `None`
    /// when nothing needs completing (or nothing defines it).
    pub fn complete_value(&self, scope: &TypeScope, v: &Value) -> Option<(TypeScope, Value)> {
        let types = scope.types(self).ok()?;
        let t = self.with_scope(scope, |k| v.resolved_type(k)).ok()?;
        match &*t {
            Type::Struct { .. } | Type::Enum { .. } => {
                let st = self.complete_type(scope, v.ty(), v.address())?;
                Some((st.scope, v.reinterpret(st.id)))
            }
            Type::Pointer {
                target: Some(tg), ..
            } => {
                types.declaration_only(*tg)?;
                let pointee = self.with_scope(scope, |k| v.to_u64(k)).ok();
                let st = self.complete_type(scope, *tg, pointee)?;
                let ptr = st.types(self).ok()?.pointer_to(st.id);
                Some((st.scope, v.reinterpret(ptr)))
            }
            _ => None,
        }
    }

    /// Global variable `name` as a value with its scope: a vmlinux variable, a symbol the
    /// linker script defines as an alias of one (`jiffies` = `jiffies_64`, typed like the
    /// variable at its address), or a module's global or static (`name_rb_tree` in dm_mod;
    /// that module's debuginfo loaded on first need). Per-CPU variables give their offset.
    pub fn read_global(&self, name: &str) -> Result<(TypeScope, Value)> {
        if let Ok((addr, ty)) = self.global(name) {
            return Ok((TypeScope::Vmlinux, Value::at(ty, addr)));
        }
        if self.symbol_addr(name).is_some() {
            let e = crate::value::expr::Expr::Ident(name.to_string());
            if let Ok(v) = crate::value::expr::eval(self, &e, None) {
                if v.address().is_some() {
                    return Ok((TypeScope::Vmlinux, v));
                }
            }
        } else if let Ok(table) = self.modules() {
            if let Some((addr, d, ty)) = table.global(&self.release_cached(), name) {
                return Ok((TypeScope::Module(d), Value::at(ty, addr)));
            }
        }
        Err(Error::Kernel(format!(
            "no global variable '{name}' in the debug info of the vmlinux or a module"
        )))
    }

    /// The runtime address of symbol `name`: the vmlinux's, else the first module's (from
    /// its kallsyms, no debuginfo needed).
    pub fn any_symbol_addr(&self, name: &str) -> Option<u64> {
        self.symbol_addr(name).or_else(|| {
            self.modules()
                .ok()?
                .modules
                .iter()
                .find_map(|m| m.symbol_addr(name))
        })
    }

    /// Runs `f` with the target of `scope`.
    pub fn with_scope<R>(&self, scope: &TypeScope, f: impl FnOnce(&dyn Target) -> R) -> R {
        let t = scope.target(self);
        f(&*t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_selector_splits() {
        assert_eq!(
            split_module_selector("dm_round_robin:struct path_info"),
            (Some("dm_round_robin"), "struct path_info")
        );
        assert_eq!(
            split_module_selector(" dm-mod: struct mapped_device "),
            (Some("dm-mod"), "struct mapped_device")
        );
        assert_eq!(
            split_module_selector("struct task_struct"),
            (None, "struct task_struct")
        );
        assert_eq!(split_module_selector("x:"), (None, "x:"));
        assert_eq!(split_module_selector("a b:c"), (None, "a b:c"));
    }
}
