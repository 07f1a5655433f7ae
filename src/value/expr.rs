//! The expression language of `p`: symbols, numbers, enumerators, member chains (`.` and `->`,
//! both pointer-transparent), `[i]`, unary `*` and `&`, casts `(struct x *)0x…`, `sizeof(type)`,
//! `+`/`-` (pointer arithmetic scaled as in C) and per-CPU `sym:cpu` / `sym:a`.
//!
//! Must not import `session` or `commands`.

use super::{Result, Target, Value, ValueError};
use crate::debuginfo::{Type, TypeId};

/// Which CPUs a per-CPU reference names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpuSel {
    /// One CPU.
    One(usize),
    /// Every CPU (`sym:a`).
    All,
}

/// A parsed expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// A number.
    Num(u64),
    /// A symbol, global variable or enumerator.
    Ident(String),
    /// A per-CPU variable on some CPU(s).
    PerCpu(String, CpuSel),
    /// `e.member` or `e->member`.
    Member(Box<Expr>, String),
    /// `e[i]`.
    Index(Box<Expr>, Box<Expr>),
    /// `*e`.
    Deref(Box<Expr>),
    /// `&e`.
    AddrOf(Box<Expr>),
    /// `-e`.
    Neg(Box<Expr>),
    /// `(type) e`.
    Cast(TypeId, Box<Expr>),
    /// `sizeof(type)`.
    SizeOf(TypeId),
    /// `a + b`.
    Add(Box<Expr>, Box<Expr>),
    /// `a - b`.
    Sub(Box<Expr>, Box<Expr>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Ident(String),
    Num(u64),
    P(&'static str),
}

fn tokenize(s: &str) -> Result<Vec<Tok>> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c.is_ascii_alphabetic() || c == b'_' || c == b'$' {
            let st = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$') {
                i += 1;
            }
            out.push(Tok::Ident(s[st..i].to_string()));
        } else if c.is_ascii_digit() {
            let st = i;
            while i < b.len() && b[i].is_ascii_alphanumeric() {
                i += 1;
            }
            let w = &s[st..i];
            let v = match w.strip_prefix("0x").or_else(|| w.strip_prefix("0X")) {
                Some(h) => u64::from_str_radix(h, 16).ok(),
                None => w.parse().ok(),
            }
            .ok_or_else(|| ValueError::Syntax(format!("bad number '{w}'")))?;
            out.push(Tok::Num(v));
        } else {
            let two = s.get(i..i + 2).unwrap_or("");
            if two == "->" {
                out.push(Tok::P("->"));
                i += 2;
                continue;
            }
            let p = match c {
                b'.' => ".",
                b'[' => "[",
                b']' => "]",
                b'(' => "(",
                b')' => ")",
                b'*' => "*",
                b'&' => "&",
                b':' => ":",
                b'-' => "-",
                b'+' => "+",
                _ => {
                    return Err(ValueError::Syntax(format!(
                        "unexpected '{}' in '{s}'",
                        c as char
                    )))
                }
            };
            out.push(Tok::P(p));
            i += 1;
        }
    }
    Ok(out)
}

fn tok_text(t: &Tok) -> String {
    match t {
        Tok::Ident(s) => s.clone(),
        Tok::Num(n) => n.to_string(),
        Tok::P(p) => (*p).to_string(),
    }
}

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    k: &'a dyn Target,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn eat(&mut self, p: &str) -> bool {
        if matches!(self.peek(), Some(Tok::P(x)) if *x == p) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn expect(&mut self, p: &str) -> Result<()> {
        if self.eat(p) {
            Ok(())
        } else {
            Err(ValueError::Syntax(format!(
                "expected '{p}' at {}",
                self.peek().map(tok_text).unwrap_or_else(|| "end".into())
            )))
        }
    }

    /// If the tokens from the current position up to the matching `)` spell a type, consume
    /// them and the `)` and return it.
    fn try_type_in_parens(&mut self) -> Result<Option<TypeId>> {
        let mut depth = 0usize;
        let mut end = None;
        for (i, t) in self.toks.iter().enumerate().skip(self.pos) {
            match t {
                Tok::P("(") => depth += 1,
                Tok::P(")") if depth == 0 => {
                    end = Some(i);
                    break;
                }
                Tok::P(")") => depth -= 1,
                _ => {}
            }
        }
        let Some(end) = end else { return Ok(None) };
        let words: Vec<String> = self.toks[self.pos..end].iter().map(tok_text).collect();
        let first_is_ident = matches!(self.toks.get(self.pos), Some(Tok::Ident(_)));
        if !first_is_ident || words.is_empty() {
            return Ok(None);
        }
        if words.len() == 1 && self.k.global_var(&words[0]).is_some() {
            return Ok(None);
        }
        let mut text = String::new();
        for w in &words {
            if !text.is_empty() && !text.ends_with('*') {
                text.push(' ');
            }
            text.push_str(w);
        }
        let types = self.k.type_index()?;
        match types.find_type(&text) {
            Some(t) => {
                self.pos = end + 1;
                Ok(Some(t))
            }
            None => Ok(None),
        }
    }

    fn additive(&mut self) -> Result<Expr> {
        let mut e = self.unary()?;
        loop {
            if self.eat("+") {
                e = Expr::Add(Box::new(e), Box::new(self.unary()?));
            } else if self.eat("-") {
                e = Expr::Sub(Box::new(e), Box::new(self.unary()?));
            } else {
                return Ok(e);
            }
        }
    }

    fn unary(&mut self) -> Result<Expr> {
        if self.eat("*") {
            return Ok(Expr::Deref(Box::new(self.unary()?)));
        }
        if self.eat("&") {
            return Ok(Expr::AddrOf(Box::new(self.unary()?)));
        }
        if self.eat("-") {
            return Ok(Expr::Neg(Box::new(self.unary()?)));
        }
        if matches!(self.peek(), Some(Tok::P("("))) {
            let save = self.pos;
            self.pos += 1;
            if let Some(t) = self.try_type_in_parens()? {
                return Ok(Expr::Cast(t, Box::new(self.unary()?)));
            }
            self.pos = save;
        }
        self.postfix()
    }

    fn postfix(&mut self) -> Result<Expr> {
        let mut e = self.primary()?;
        loop {
            if self.eat(".") || self.eat("->") {
                match self.toks.get(self.pos).cloned() {
                    Some(Tok::Ident(n)) => {
                        self.pos += 1;
                        e = Expr::Member(Box::new(e), n);
                    }
                    _ => return Err(ValueError::Syntax("member name expected".into())),
                }
            } else if self.eat("[") {
                let i = self.additive()?;
                self.expect("]")?;
                e = Expr::Index(Box::new(e), Box::new(i));
            } else {
                return Ok(e);
            }
        }
    }

    fn primary(&mut self) -> Result<Expr> {
        match self.toks.get(self.pos).cloned() {
            Some(Tok::Num(n)) => {
                self.pos += 1;
                Ok(Expr::Num(n))
            }
            Some(Tok::Ident(name)) => {
                self.pos += 1;
                if name == "sizeof" {
                    self.expect("(")?;
                    if let Some(t) = self.try_type_in_parens()? {
                        return Ok(Expr::SizeOf(t));
                    }
                    return Err(ValueError::Syntax("sizeof needs a type".into()));
                }
                if self.eat(":") {
                    return match self.toks.get(self.pos).cloned() {
                        Some(Tok::Num(c)) => {
                            self.pos += 1;
                            Ok(Expr::PerCpu(name, CpuSel::One(c as usize)))
                        }
                        Some(Tok::Ident(a)) if a == "a" || a == "all" => {
                            self.pos += 1;
                            Ok(Expr::PerCpu(name, CpuSel::All))
                        }
                        _ => Err(ValueError::Syntax(format!(
                            "{name}: CPU number or 'a' expected after ':'"
                        ))),
                    };
                }
                Ok(Expr::Ident(name))
            }
            Some(Tok::P("(")) => {
                self.pos += 1;
                let e = self.additive()?;
                self.expect(")")?;
                Ok(e)
            }
            Some(t) => Err(ValueError::Syntax(format!("unexpected '{}'", tok_text(&t)))),
            None => Err(ValueError::Syntax("expression expected".into())),
        }
    }
}

/// Parses `text` (type names in casts are looked up in `k`'s type index).
pub fn parse(k: &dyn Target, text: &str) -> Result<Expr> {
    let mut p = Parser {
        toks: tokenize(text)?,
        pos: 0,
        k,
    };
    let e = p.additive()?;
    if let Some(t) = p.peek() {
        return Err(ValueError::Syntax(format!(
            "unexpected '{}' after the expression",
            tok_text(t)
        )));
    }
    Ok(e)
}

/// Whether the expression names a per-CPU variable on all CPUs (`sym:a`).
pub fn uses_all_cpus(e: &Expr) -> bool {
    match e {
        Expr::PerCpu(_, CpuSel::All) => true,
        Expr::Member(a, _) | Expr::Deref(a) | Expr::AddrOf(a) | Expr::Neg(a) | Expr::Cast(_, a) => {
            uses_all_cpus(a)
        }
        Expr::Index(a, b) | Expr::Add(a, b) | Expr::Sub(a, b) => {
            uses_all_cpus(a) || uses_all_cpus(b)
        }
        _ => false,
    }
}

fn ulong(k: &dyn Target) -> Result<TypeId> {
    k.type_index()?
        .find_type("unsigned long")
        .ok_or_else(|| ValueError::NoType("unsigned long".into()))
}

/// Evaluates `e`; `all_cpu` is the CPU substituted for `sym:a`.
pub fn eval(k: &dyn Target, e: &Expr, all_cpu: Option<usize>) -> Result<Value> {
    let types = k.type_index()?;
    match e {
        Expr::Num(n) => Ok(Value::from_u64(ulong(k)?, *n)),
        Expr::Ident(name) => {
            if let Some((addr, ty)) = k.global_var(name) {
                if k.is_percpu_offset(addr) {
                    return Err(ValueError::Other(format!(
                        "{name} is a per-CPU variable: use {name}:CPU or {name}:a"
                    )));
                }
                return Ok(Value::at(ty, addr));
            }
            if let Some((ty, v)) = types.enumerator(name) {
                return Ok(Value::from_u64(ty, v as u64));
            }
            if let Some(a) = k.symbol_address(name) {
                // A symbol the linker script defines (`jiffies = jiffies_64`) has no debug
                // info of its own: take the type of a variable at the same address.
                for alias in k.symbols_at(a) {
                    if let Some((addr, ty)) = k.global_var(&alias).filter(|g| g.0 == a) {
                        return Ok(Value::at(ty, addr));
                    }
                }
                return Ok(Value::from_u64(types.pointer_to(TypeId::VOID), a));
            }
            Err(ValueError::NoSymbol(name.clone()))
        }
        Expr::PerCpu(name, sel) => {
            let cpu = match (sel, all_cpu) {
                (CpuSel::One(c), _) => *c,
                (CpuSel::All, Some(c)) => c,
                (CpuSel::All, None) => {
                    return Err(ValueError::Other(format!("{name}:a needs a CPU")))
                }
            };
            let (off, ty) = match k.global_var(name) {
                Some(g) => g,
                None => (
                    k.symbol_address(name)
                        .ok_or_else(|| ValueError::NoSymbol(name.clone()))?,
                    types.pointer_to(TypeId::VOID),
                ),
            };
            if !k.is_percpu_offset(off) {
                return Err(ValueError::Other(format!(
                    "{name} is not a per-CPU variable"
                )));
            }
            let base = k.cpu_offsets().get(cpu).ok_or_else(|| {
                ValueError::Other(format!(
                    "CPU {cpu} does not exist ({} possible)",
                    k.cpu_offsets().len()
                ))
            })?;
            Ok(Value::at(ty, off.wrapping_add(*base)))
        }
        Expr::Member(a, m) => eval(k, a, all_cpu)?.member(k, m),
        Expr::Index(a, i) => {
            let i = eval(k, i, all_cpu)?.to_i64(k)?;
            eval(k, a, all_cpu)?.index(k, i)
        }
        Expr::Deref(a) => eval(k, a, all_cpu)?.deref(k),
        Expr::AddrOf(a) => eval(k, a, all_cpu)?.address_of(k),
        Expr::Neg(a) => {
            let v = eval(k, a, all_cpu)?;
            Ok(Value::from_u64(v.ty(), v.to_i64(k)?.wrapping_neg() as u64))
        }
        Expr::Cast(t, a) => eval(k, a, all_cpu)?.cast(k, *t),
        Expr::SizeOf(t) => Ok(Value::from_u64(ulong(k)?, types.size_of(*t)?)),
        Expr::Add(a, b) | Expr::Sub(a, b) => {
            let (va, vb) = (eval(k, a, all_cpu)?, eval(k, b, all_cpu)?);
            let sign: i64 = if matches!(e, Expr::Sub(..)) { -1 } else { 1 };
            let ta = va.resolved_type(k)?;
            match &*ta {
                Type::Pointer { target, .. } => {
                    let step = match target {
                        Some(t) => types.size_of(*t).unwrap_or(1),
                        None => 1,
                    };
                    let n = vb.to_i64(k)?;
                    let p = va
                        .to_u64(k)?
                        .wrapping_add((n.wrapping_mul(sign) as u64).wrapping_mul(step));
                    Ok(Value::from_u64(va.ty(), p))
                }
                _ => {
                    let r = va.to_i64(k)?.wrapping_add(vb.to_i64(k)?.wrapping_mul(sign));
                    Ok(Value::from_u64(va.ty(), r as u64))
                }
            }
        }
    }
}
