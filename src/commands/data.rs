//! Structured command results: what `cmd("sys")` returns to scripts and `--json` prints.

/// A value a command returns besides its text.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    /// No value.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer (addresses as their u64 bit pattern).
    Int(i64),
    /// An unsigned value (addresses, sizes, nanoseconds): scripts get an INT with the same bit
    /// pattern, JSON the unsigned number.
    Uint(u64),
    /// A kernel address: scripts get an `Addr` (printed in hex), JSON the unsigned number.
    Addr(u64),
    /// A floating-point number (percentages); JSON `null` when not finite.
    Float(f64),
    /// A string.
    Str(String),
    /// A list.
    List(Vec<Data>),
    /// Named fields, in order.
    Map(Vec<(String, Data)>),
}

impl Data {
    /// A map from (name, value) pairs.
    pub fn map<I: IntoIterator<Item = (&'static str, Data)>>(fields: I) -> Self {
        Data::Map(
            fields
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        )
    }
    /// An optional string (`Null` when absent).
    pub fn opt_str(s: Option<&str>) -> Self {
        s.map(|s| Data::Str(s.to_string())).unwrap_or(Data::Null)
    }
    /// An optional integer.
    pub fn opt_int<T: TryInto<i64>>(v: Option<T>) -> Self {
        v.and_then(|v| v.try_into().ok())
            .map(Data::Int)
            .unwrap_or(Data::Null)
    }

    /// A kernel address.
    pub fn addr(v: u64) -> Self {
        Data::Addr(v)
    }
    /// An unsigned number (sizes, nanoseconds, counters).
    pub fn uint(v: u64) -> Self {
        Data::Uint(v)
    }
    /// A list built from an iterator.
    pub fn list<I: IntoIterator<Item = Data>>(items: I) -> Self {
        Data::List(items.into_iter().collect())
    }
    /// The one element of `items` when there is exactly one, else the list (`cmd("task 1")`
    /// is a map, `cmd("task 1 2")` a list of maps).
    pub fn one_or_list(mut items: Vec<Data>) -> Self {
        if items.len() == 1 {
            items.pop().unwrap_or(Data::Null)
        } else {
            Data::List(items)
        }
    }

    /// JSON text.
    pub fn to_json(&self) -> String {
        let mut s = String::new();
        self.write_json(&mut s);
        s
    }

    fn write_json(&self, s: &mut String) {
        match self {
            Data::Null => s.push_str("null"),
            Data::Bool(b) => s.push_str(if *b { "true" } else { "false" }),
            Data::Int(i) => s.push_str(&i.to_string()),
            Data::Uint(u) | Data::Addr(u) => s.push_str(&u.to_string()),
            Data::Float(f) if f.is_finite() => s.push_str(&format!("{f:?}")),
            Data::Float(_) => s.push_str("null"),
            Data::Str(t) => json_string(t, s),
            Data::List(v) => {
                s.push('[');
                for (i, x) in v.iter().enumerate() {
                    if i > 0 {
                        s.push(',');
                    }
                    x.write_json(s);
                }
                s.push(']');
            }
            Data::Map(m) => {
                s.push('{');
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        s.push(',');
                    }
                    json_string(k, s);
                    s.push(':');
                    v.write_json(s);
                }
                s.push('}');
            }
        }
    }
}

/// Appends `t` to `s` as a JSON string (quoted, escaped).
pub(crate) fn json_string(t: &str, s: &mut String) {
    s.push('"');
    for c in t.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            c if (c as u32) < 0x20 => s.push_str(&format!("\\u{:04x}", c as u32)),
            c => s.push(c),
        }
    }
    s.push('"');
}

#[cfg(test)]
mod tests {
    use super::Data;

    #[test]
    fn json() {
        let d = Data::map([
            ("a", Data::Int(-1)),
            (
                "b",
                Data::List(vec![
                    Data::Str("x\"y\n".into()),
                    Data::Null,
                    Data::Bool(true),
                    Data::Float(0.5),
                    Data::addr(u64::MAX),
                ]),
            ),
        ]);
        assert_eq!(
            d.to_json(),
            r#"{"a":-1,"b":["x\"y\n",null,true,0.5,18446744073709551615]}"#
        );
    }
}
