//! Completion for the interactive prompt: command names, symbols, type names, and member
//! paths after a dot (`init_task.se.<TAB>`), resolved from DWARF through pointers and arrays.

use crate::commands::Registry;
use crate::debuginfo::{Type, TypeId, TypeIndex};
use crate::session::Session;

/// Most candidates offered at once.
const MAX_CANDIDATES: usize = 500;

/// Commands whose arguments are type names.
const TYPE_COMMANDS: [&str; 4] = ["struct", "union", "whatis", "*"];

/// Characters that end a word for completion purposes.
fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '&' | '*' | ',' | '=' | '[' | ']' | '|')
}

/// Candidates for the word ending at `pos` in `line`: (start of the word, replacements).
pub fn complete(session: &Session, reg: &Registry, line: &str, pos: usize) -> (usize, Vec<String>) {
    let head = &line[..pos.min(line.len())];
    let start = head
        .char_indices()
        .rev()
        .find(|&(_, c)| is_separator(c))
        .map(|(i, c)| i + c.len_utf8())
        .unwrap_or(0);
    let word = &head[start..];
    let first_word = head.split_whitespace().next().unwrap_or("");
    let at_first = head[..start].trim().is_empty();
    let mut out: Vec<String> = if at_first {
        let mut v: Vec<String> = reg
            .all()
            .flat_map(|c| std::iter::once(c.name()).chain(c.aliases().iter().copied()))
            .filter(|n| n.starts_with(word))
            .map(str::to_string)
            .collect();
        v.extend(
            ["quit", "exit"]
                .iter()
                .filter(|n| n.starts_with(word))
                .map(|s| s.to_string()),
        );
        v
    } else if let Some(dot) = word.rfind('.') {
        let (path, partial) = (&word[..dot], &word[dot + 1..]);
        member_candidates(session, path, partial)
            .into_iter()
            .map(|m| format!("{path}.{m}"))
            .collect()
    } else if TYPE_COMMANDS.contains(&first_word) {
        match session.types() {
            Ok(t) => t.type_names(word),
            Err(_) => Vec::new(),
        }
    } else {
        session
            .vmlinux()
            .symbols()
            .names_with_prefix(word)
            .into_iter()
            .map(str::to_string)
            .collect()
    };
    out.sort();
    out.dedup();
    out.truncate(MAX_CANDIDATES);
    (start, out)
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

/// The members that can follow `path` (`init_task.se`, or a type name such as `task_struct`).
fn member_candidates(session: &Session, path: &str, partial: &str) -> Vec<String> {
    let Ok(types) = session.types() else {
        return Vec::new();
    };
    let mut parts = path.split('.');
    let root = parts.next().unwrap_or("").trim_start_matches('&');
    let root = root.split('[').next().unwrap_or(root);
    let start = types
        .global(root)
        .map(|g| g.ty)
        .or_else(|| types.find_type(&format!("struct {root}")))
        .or_else(|| types.find_type(root));
    let Some(mut ty) = start.and_then(|t| aggregate(types, t)) else {
        return Vec::new();
    };
    for part in parts {
        let name = part.split('[').next().unwrap_or(part);
        let Some(next) = types
            .member(ty, name)
            .ok()
            .and_then(|m| aggregate(types, m.ty))
        else {
            return Vec::new();
        };
        ty = next;
    }
    let mut out = Vec::new();
    member_names(types, ty, partial, &mut out, 0);
    out
}
