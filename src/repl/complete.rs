//! Completion for the interactive prompt: command names, symbols, variables, type names (the
//! vmlinux's and the modules'), and member paths after a dot, resolved from DWARF through
//! pointers and arrays: from a symbol or type (`init_task.se.<TAB>`) or from a live Rhai
//! variable (`t.files.fdt.<TAB>` after `let t = find_task(1);`). A path is walked through
//! types only: no pointer is read from the dump.

use crate::commands::Registry;
use crate::debuginfo::{Type, TypeId, TypeIndex};
use crate::linux::type_scope::ScopedType;
use crate::script::live::Shape;
use crate::session::Session;
use std::collections::BTreeMap;

/// Most candidates offered at once.
const MAX_CANDIDATES: usize = 500;

/// Commands whose arguments are type names.
const TYPE_COMMANDS: [&str; 4] = ["struct", "union", "whatis", "*"];

/// The live Rhai variables of the session, by name.
pub type Variables = BTreeMap<String, Shape>;

/// Characters that end a word for completion purposes.
fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '(' | ')' | '&' | '*' | ',' | '=' | '[' | ']' | '|' | '{' | '}' | ';' | '!' | '+'
        )
}

/// The start of the word ending at the end of `head`: after the last separator outside an
/// index (`fdt.fd[0].f_` is one word).
fn word_start(head: &str) -> usize {
    let mut depth = 0usize;
    for (i, c) in head.char_indices().rev() {
        match c {
            ']' => depth += 1,
            '[' if depth > 0 => depth -= 1,
            _ if depth == 0 && is_separator(c) => return i + c.len_utf8(),
            _ => {}
        }
    }
    0
}

/// Candidates for the word ending at `pos` in `line`: (start of the word, replacements).
/// `vars` are the live Rhai variables.
pub fn complete(
    session: &Session,
    reg: &Registry,
    vars: &Variables,
    line: &str,
    pos: usize,
) -> (usize, Vec<String>) {
    let head = line.get(..pos.min(line.len())).unwrap_or(line);
    let start = word_start(head);
    let word = &head[start..];
    let first_word = head.split_whitespace().next().unwrap_or("");
    let at_first = head[..start].trim().is_empty();
    let type_command = TYPE_COMMANDS.contains(&first_word) && !at_first;
    let with_prefix = |names: &mut dyn Iterator<Item = &str>| -> Vec<String> {
        names
            .filter(|n| n.starts_with(word))
            .map(str::to_string)
            .collect()
    };
    let mut out: Vec<String> = if let Some(dot) = word.rfind('.') {
        let (path, partial) = (&word[..dot], &word[dot + 1..]);
        member_candidates(session, vars, path, partial)
            .into_iter()
            .map(|m| format!("{path}.{m}"))
            .collect()
    } else if at_first {
        let mut v = with_prefix(
            &mut reg
                .all()
                .flat_map(|c| std::iter::once(c.name()).chain(c.aliases().iter().copied())),
        );
        v.extend(with_prefix(&mut ["quit", "exit"].into_iter()));
        v.extend(with_prefix(&mut vars.keys().map(String::as_str)));
        v
    } else if type_command {
        type_names(session, head, start)
    } else {
        let mut v = with_prefix(&mut vars.keys().map(String::as_str));
        v.extend(
            session
                .vmlinux()
                .symbols()
                .names_with_prefix(word)
                .into_iter()
                .map(str::to_string),
        );
        v
    };
    out.sort();
    out.dedup();
    out.truncate(MAX_CANDIDATES);
    (start, out)
}

/// Type names for `struct`/`union`/`whatis`: the word may follow a `struct `/`union `/`enum `
/// keyword (`struct mapped_<TAB>`). Names come from the vmlinux and from every module with
/// debuginfo (`struct hash_cell` is dm_mod's alone); module debuginfo is opened on first need.
fn type_names(session: &Session, head: &str, start: usize) -> Vec<String> {
    let word = &head[start..];
    let before = head[..start].trim_end();
    let before_words: Vec<&str> = before.split_whitespace().collect();
    let keyword = ["struct", "union", "enum"]
        .into_iter()
        .find(|k| before_words.len() > 1 && before_words.last() == Some(k));
    let prefix = match keyword {
        Some(k) => format!("{k} {word}"),
        None => word.to_string(),
    };
    let mut names = Vec::new();
    if let Ok(t) = session.types() {
        names.extend(t.type_names(&prefix));
    }
    if let Ok(table) = session.modules() {
        for m in &table.modules {
            if let Some(d) = session.module_debuginfo(&m.name) {
                names.extend(d.types.type_names(&prefix));
            }
        }
    }
    // Replace only the word: drop the keyword the line already has.
    names
        .into_iter()
        .map(|n| match keyword {
            Some(k) => n
                .strip_prefix(k)
                .map_or(n.clone(), |r| r.trim_start().to_string()),
            None => n,
        })
        .collect()
}

/// Strips typedefs, qualifiers, pointers and arrays down to the struct or union they lead to.
fn aggregate(types: &TypeIndex, mut id: TypeId) -> Option<TypeId> {
    for _ in 0..16 {
        id = types.resolve(id).ok()?;
        match &*types.get(id).ok()? {
            Type::Struct { .. } => return Some(id),
            Type::Pointer { target, .. } => id = (*target)?,
            Type::Array { elem, .. } => id = *elem,
            _ => return None,
        }
    }
    None
}

/// Like [`aggregate`], then a struct its file only declares (`struct mapped_device` in the
/// vmlinux) becomes the definition of the file that has one (dm_mod), by type only.
fn aggregate_scoped(session: &Session, st: &ScopedType) -> Option<ScopedType> {
    let id = aggregate(st.types(session).ok()?, st.id)?;
    match session.complete_type(&st.scope, id, None) {
        Some(def) => {
            let inner = aggregate(def.types(session).ok()?, def.id)?;
            Some(ScopedType {
                scope: def.scope,
                id: inner,
            })
        }
        None => Some(ScopedType {
            scope: st.scope.clone(),
            id,
        }),
    }
}

/// Member names (anonymous members flattened) of `ty` starting with `partial`.
fn member_names(types: &TypeIndex, ty: TypeId, partial: &str, out: &mut Vec<String>, depth: u32) {
    let Ok(members) = types.members(ty) else {
        return;
    };
    for m in members {
        match &m.name {
            Some(n) if n.starts_with(partial) => out.push(n.clone()),
            Some(_) => {}
            None if depth < 8 => {
                if let Some(inner) = aggregate(types, m.ty) {
                    member_names(types, inner, partial, out, depth + 1);
                }
            }
            None => {}
        }
    }
}

/// A path component without its indexes (`fd[0]` → `fd`) and how many indexes it has.
fn split_component(part: &str) -> (&str, usize) {
    let name = part.split('[').next().unwrap_or(part);
    (name, part.matches('[').count())
}

/// The members of the struct reached from `st` through `parts`, starting with `partial`.
fn type_walk<'p>(
    session: &Session,
    mut st: ScopedType,
    parts: impl Iterator<Item = &'p str>,
    partial: &str,
) -> Vec<String> {
    let Some(mut cur) = aggregate_scoped(session, &st) else {
        return Vec::new();
    };
    for part in parts {
        let (name, _) = split_component(part);
        let Some(next) = cur
            .types(session)
            .ok()
            .and_then(|t| t.member(cur.id, name).ok())
        else {
            return Vec::new();
        };
        st = ScopedType {
            scope: cur.scope.clone(),
            id: next.ty,
        };
        let Some(c) = aggregate_scoped(session, &st) else {
            return Vec::new();
        };
        cur = c;
    }
    let mut out = Vec::new();
    if let Ok(types) = cur.types(session) {
        member_names(types, cur.id, partial, &mut out, 0);
    }
    out
}

/// What can follow `path` when its root is a live variable: map keys, or an object's
/// members. `None` when the root is no variable.
fn live_candidates(
    session: &Session,
    vars: &Variables,
    path: &str,
    partial: &str,
) -> Option<Vec<String>> {
    let mut parts = path.split('.');
    let (root, root_indexes) = split_component(parts.next()?);
    let mut shape = vars.get(root)?;
    let mut indexes = root_indexes;
    loop {
        // `arr[0]`: an array's elements share the first one's shape.
        while indexes > 0 {
            match shape {
                Shape::Array(e) => shape = e,
                _ => break,
            }
            indexes -= 1;
        }
        match shape {
            Shape::Object(st) => return Some(type_walk(session, st.clone(), parts, partial)),
            Shape::Map(m) => match parts.next() {
                Some(part) => {
                    let (name, n) = split_component(part);
                    shape = m.get(name)?;
                    indexes = n;
                }
                None => {
                    return Some(
                        m.keys()
                            .filter(|k| k.starts_with(partial))
                            .cloned()
                            .collect(),
                    )
                }
            },
            Shape::Array(_) | Shape::Other => return Some(Vec::new()),
        }
    }
}

/// The members that can follow `path`: a live variable (`t.mm`), a global (`init_task.se`),
/// or a type name (`task_struct`).
fn member_candidates(
    session: &Session,
    vars: &Variables,
    path: &str,
    partial: &str,
) -> Vec<String> {
    let path = path.trim_start_matches('&');
    if let Some(found) = live_candidates(session, vars, path, partial) {
        return found;
    }
    let Ok(types) = session.types() else {
        return Vec::new();
    };
    let mut parts = path.split('.');
    let (root, _) = split_component(parts.next().unwrap_or(""));
    let start = types
        .global(root)
        .map(|g| g.ty)
        .or_else(|| types.find_type(&format!("struct {root}")))
        .or_else(|| types.find_type(root))
        .map(ScopedType::vmlinux)
        // A type only a module defines (`mapped_device.<TAB>`): its debuginfo answers.
        .or_else(|| {
            let ident = !root.is_empty()
                && root.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !root.starts_with(|c: char| c.is_ascii_digit());
            if !ident {
                return None;
            }
            let specs = [format!("struct {root}"), root.to_string()];
            session.lookup_type_first(&specs).ok()
        });
    match start {
        Some(st) => type_walk(session, st, parts, partial),
        None => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_keep_their_indexes() {
        let head = "let f = fdt.fd[i + 1].f_";
        assert_eq!(&head[word_start(head)..], "fdt.fd[i + 1].f_");
        let head = "print(t.mm.";
        assert_eq!(&head[word_start(head)..], "t.mm.");
        assert_eq!(word_start("struct task"), 7);
    }
}
