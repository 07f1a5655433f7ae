//! Shared by the DWARF fuzz targets: use a type index the way rkdump does (names, members,
//! sizes, enumerators), bounded so a hostile file cannot make one input run long.

use rkdump::debuginfo::TypeIndex;

/// Looks up every indexed type name (bounded) and walks each type's members one level down.
pub fn exercise(idx: &TypeIndex) {
    let _ = idx.stats();
    for name in idx.type_names("").into_iter().take(64) {
        let Some(id) = idx.find_type(&name) else {
            continue;
        };
        let _ = idx.type_name(id);
        let _ = idx.size_of(id);
        let _ = idx.declaration_only(id);
        if let Ok(r) = idx.resolve(id) {
            let _ = idx.get(r);
        }
        if let Ok(members) = idx.members(id) {
            for m in members.iter().take(32) {
                let _ = idx.size_of(m.ty);
                let _ = idx.type_name(m.ty);
                let _ = idx.members(m.ty);
            }
        }
    }
    for name in ["struct node", "node_t", "struct list_head", "int", "A"] {
        let _ = idx.find_type(name);
        let _ = idx.enumerator(name);
        let _ = idx.global(name);
    }
}
