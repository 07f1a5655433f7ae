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

fn json_string(t: &str, s: &mut String) {
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
                ]),
            ),
        ]);
        assert_eq!(d.to_json(), r#"{"a":-1,"b":["x\"y\n",null,true]}"#);
    }
}
