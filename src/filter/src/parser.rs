//! go-bexpr v0.1.2's grammar (the version Consul 1.2x pins), run the way the
//! pigeon-generated Go parser runs it, so that error messages are the same
//! text Consul returns: `line:col (offset): rule "name": message`, or
//! `no match found, expected: ...` listing what was wanted at the farthest
//! position reached.
//!
//! The grammar:
//! ```text
//! Input <- _? "(" _? OrExpression _? ")" _? EOF / _? OrExpression _? EOF
//! OrExpression <- AndExpression _ "or" _ OrExpression / AndExpression
//! AndExpression <- NotExpression _ "and" _ AndExpression / NotExpression
//! NotExpression <- "not" _ NotExpression / ParenthesizedExpression
//! ParenthesizedExpression "grouping" <- "(" _? OrExpression _? ")"
//!     / MatchExpression / "(" _? OrExpression _? !")" &{Unmatched parentheses}
//! MatchExpression "match" <- MatchSelectorOpValue / MatchSelectorOp / MatchValueOpSelector
//! MatchSelectorOpValue "match" <- Selector (== / != / contains / not contains
//!     / matches / not matches) Value
//! MatchSelectorOp "match" <- Selector (is empty / is not empty)
//! MatchValueOpSelector "match" <- Value (in / not in) Selector
//!     / Value (in / not in) !Selector &{Invalid selector}
//! Selector "selector" <- Identifier ("." Identifier / IndexExpression)*
//! Identifier <- [a-zA-Z] [a-zA-Z0-9_]*
//! IndexExpression "index" <- "[" _? StringLiteral _? "]"
//!     / "[" _? !StringLiteral &{Invalid index}
//!     / "[" _? StringLiteral _? !"]" &{Unclosed index expression}
//! Value "value" <- Selector / NumberLiteral / StringLiteral
//! NumberLiteral "number" <- "-"? IntegerOrFloat &AfterNumbers
//!     / "-"? IntegerOrFloat !AfterNumbers &{Invalid number literal}
//! AfterNumbers <- &(_ / EOF / ")")
//! IntegerOrFloat <- ("0" / [1-9][0-9]*) ("." [0-9]+)?
//! StringLiteral "string" <- ('`' (!'`' .)* '`' / '"' (!'"' .)* '"') {strconv.Unquote}
//!     / ('`' (!'`' .)* / '"' (!'"' .)*) EOF &{Unterminated string literal}
//! _ "whitespace" <- [ \t\r\n]+
//! EOF <- !.
//! ```
//! The operator keywords need whitespace around them (`_`), `==`/`!=` only
//! optional whitespace (`_?`).
//!
//! Two departures, neither visible in results: the right-recursive and/or/not
//! rules run as loops (same attempts in the same order, so the same failure
//! bookkeeping), and OrExpression is memoised per offset so unbalanced
//! parentheses cannot make the backtracking exponential. Replaying a memoised
//! rule would only re-record failures and errors already recorded, which the
//! bookkeeping treats as sets. Parenthesis nesting is capped at
//! [`MAX_NESTING`] so hostile input cannot exhaust the stack.

use std::collections::HashMap;
use std::sync::Arc;

use crate::ast::{Expr, MatchExpr, MatchOp};
use crate::gostr;

/// Deepest parenthesis nesting accepted. Consul has no limit; real filters
/// nest a handful of levels.
pub const MAX_NESTING: usize = 64;

const WS_CLASS: &str = "[ \\t\\r\\n]";
const RULE_GROUPING: &str = "\"grouping\"";
const RULE_MATCH: &str = "\"match\"";
const RULE_INDEX: &str = "\"index\"";
const RULE_NUMBER: &str = "\"number\"";
const RULE_STRING: &str = "\"string\"";

#[derive(Clone, Copy, Debug)]
struct Pos {
    line: usize,
    col: usize,
    offset: usize,
}

/// pigeon's savepoint: position plus the current rune (None at EOF).
#[derive(Clone, Copy, Debug)]
struct Pt {
    pos: Pos,
    rn: Option<char>,
    w: usize,
}

fn ok(b: bool) -> Option<()> {
    b.then_some(())
}

/// Keyword sequences used by the operator rules.
#[derive(Clone, Copy)]
enum Tok {
    Ws,
    OptWs,
    Lit(&'static str),
}

pub(crate) struct Parser<'a> {
    data: &'a str,
    pt: Pt,
    errs: Vec<String>,
    max_fail_pos: Pos,
    max_fail_expected: Vec<String>,
    invert: bool,
    or_memo: HashMap<usize, (Option<Arc<Expr>>, Pt)>,
    nesting: usize,
    too_deep_reported: bool,
}

/// Parses an expression; Err carries go-bexpr's message (without Consul's
/// prefix).
pub(crate) fn parse(input: &str) -> Result<Arc<Expr>, String> {
    let mut p = Parser {
        data: input,
        pt: Pt {
            pos: Pos {
                line: 1,
                col: 0,
                offset: 0,
            },
            rn: None,
            w: 0,
        },
        errs: Vec::new(),
        max_fail_pos: Pos {
            line: 1,
            col: 1,
            offset: 0,
        },
        max_fail_expected: Vec::new(),
        invert: false,
        or_memo: HashMap::new(),
        nesting: 0,
        too_deep_reported: false,
    };
    p.read();
    let res = p.input();
    match res {
        Some(e) if p.errs.is_empty() => Ok(e),
        Some(_) => Err(p.error_text()),
        None => {
            if p.errs.is_empty() {
                p.add_no_match();
            }
            Err(p.error_text())
        }
    }
}

impl<'a> Parser<'a> {
    // ---- pigeon's machinery -------------------------------------------

    fn read(&mut self) {
        self.pt.pos.offset += self.pt.w;
        match self.data[self.pt.pos.offset..].chars().next() {
            Some(c) => {
                self.pt.rn = Some(c);
                self.pt.w = c.len_utf8();
            }
            None => {
                self.pt.rn = None;
                self.pt.w = 0;
            }
        }
        self.pt.pos.col += 1;
        if self.pt.rn == Some('\n') {
            self.pt.pos.line += 1;
            self.pt.pos.col = 0;
        }
    }

    fn restore(&mut self, pt: Pt) {
        self.pt = pt;
    }

    fn fail_at(&mut self, fail: bool, pos: Pos, want: &str) {
        if fail != self.invert {
            return;
        }
        if pos.offset < self.max_fail_pos.offset {
            return;
        }
        if pos.offset > self.max_fail_pos.offset {
            self.max_fail_pos = pos;
            self.max_fail_expected.clear();
        }
        if self.invert {
            self.max_fail_expected.push(format!("!{}", want));
        } else {
            self.max_fail_expected.push(want.to_string());
        }
    }

    fn add_err_at(&mut self, pos: Pos, rule: &str, msg: &str) {
        self.errs.push(format!(
            "{}:{} ({}): rule {}: {}",
            pos.line, pos.col, pos.offset, rule, msg
        ));
    }

    fn add_err(&mut self, rule: &str, msg: &str) {
        let pos = self.pt.pos;
        self.add_err_at(pos, rule, msg);
    }

    fn add_no_match(&mut self) {
        let mut eof = false;
        let mut expected: Vec<String> = Vec::new();
        for want in &self.max_fail_expected {
            if want == "!." {
                eof = true;
            } else if !expected.contains(want) {
                expected.push(want.clone());
            }
        }
        // Go's sort.Strings: bytewise.
        expected.sort();
        if eof {
            expected.push("EOF".to_string());
        }
        let list = match expected.len() {
            0 => String::new(),
            1 => expected[0].clone(),
            n => format!("{} or {}", expected[..n - 1].join(", "), expected[n - 1]),
        };
        let pos = self.max_fail_pos;
        self.errs.push(format!(
            "{}:{} ({}): no match found, expected: {}",
            pos.line, pos.col, pos.offset, list
        ));
    }

    fn error_text(&self) -> String {
        let mut seen: Vec<&str> = Vec::new();
        for e in &self.errs {
            if !seen.contains(&e.as_str()) {
                seen.push(e);
            }
        }
        seen.join("\n")
    }

    fn lit(&mut self, s: &'static str) -> bool {
        let want = format!("{:?}", s);
        let start = self.pt;
        for c in s.chars() {
            if self.pt.rn != Some(c) {
                self.fail_at(false, start.pos, &want);
                self.restore(start);
                return false;
            }
            self.read();
        }
        self.fail_at(true, start.pos, &want);
        true
    }

    fn class(&mut self, val: &'static str, pred: fn(char) -> bool) -> bool {
        let start = self.pt;
        match self.pt.rn {
            Some(c) if pred(c) => {
                self.read();
                self.fail_at(true, start.pos, val);
                true
            }
            _ => {
                self.fail_at(false, start.pos, val);
                false
            }
        }
    }

    fn any(&mut self) -> bool {
        if self.pt.rn.is_none() {
            let pos = self.pt.pos;
            self.fail_at(false, pos, ".");
            return false;
        }
        let start = self.pt;
        self.read();
        self.fail_at(true, start.pos, ".");
        true
    }

    fn not(&mut self, f: impl FnOnce(&mut Self) -> bool) -> bool {
        let pt = self.pt;
        self.invert = !self.invert;
        let matched = f(self);
        self.invert = !self.invert;
        self.restore(pt);
        !matched
    }

    fn and(&mut self, f: impl FnOnce(&mut Self) -> bool) -> bool {
        let pt = self.pt;
        let matched = f(self);
        self.restore(pt);
        matched
    }

    fn seq<T>(&mut self, f: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        let start = self.pt;
        let r = f(self);
        if r.is_none() {
            self.restore(start);
        }
        r
    }

    fn toks(&mut self, toks: &[Tok]) -> bool {
        self.seq(|p| {
            for t in toks {
                match *t {
                    Tok::Ws => ok(p.ws())?,
                    Tok::OptWs => p.opt_ws(),
                    Tok::Lit(s) => ok(p.lit(s))?,
                }
            }
            Some(())
        })
        .is_some()
    }

    // ---- rules ----------------------------------------------------------

    /// `_ "whitespace" <- [ \t\r\n]+`
    fn ws(&mut self) -> bool {
        fn is_ws(c: char) -> bool {
            matches!(c, ' ' | '\t' | '\r' | '\n')
        }
        if !self.class(WS_CLASS, is_ws) {
            return false;
        }
        while self.class(WS_CLASS, is_ws) {}
        true
    }

    fn opt_ws(&mut self) {
        self.ws();
    }

    fn eof(&mut self) -> bool {
        self.not(|p| p.any())
    }

    fn input(&mut self) -> Option<Arc<Expr>> {
        let wrapped = self.seq(|p| {
            p.opt_ws();
            ok(p.lit("("))?;
            p.opt_ws();
            let e = p.or_expr()?;
            p.opt_ws();
            ok(p.lit(")"))?;
            p.opt_ws();
            ok(p.eof())?;
            Some(e)
        });
        if wrapped.is_some() {
            return wrapped;
        }
        self.seq(|p| {
            p.opt_ws();
            let e = p.or_expr()?;
            p.opt_ws();
            ok(p.eof())?;
            Some(e)
        })
    }

    fn or_expr(&mut self) -> Option<Arc<Expr>> {
        let key = self.pt.pos.offset;
        if let Some((res, end)) = self.or_memo.get(&key).cloned() {
            if res.is_some() {
                self.pt = end;
            }
            return res;
        }
        let res = self.binary_chain("or", Self::and_expr, Expr::Or);
        self.or_memo.insert(key, (res.clone(), self.pt));
        res
    }

    fn and_expr(&mut self) -> Option<Arc<Expr>> {
        self.binary_chain("and", Self::not_expr, Expr::And)
    }

    /// `X <- T _ kw _ X / T` run as a loop over terms.
    fn binary_chain(
        &mut self,
        kw: &'static str,
        term: fn(&mut Self) -> Option<Arc<Expr>>,
        build: fn(Vec<Arc<Expr>>) -> Expr,
    ) -> Option<Arc<Expr>> {
        let first = term(self)?;
        let mut terms = vec![first];
        loop {
            let next = self.seq(|p| {
                ok(p.ws())?;
                ok(p.lit(kw))?;
                ok(p.ws())?;
                term(p)
            });
            match next {
                Some(t) => terms.push(t),
                None => break,
            }
        }
        if terms.len() == 1 {
            return terms.pop();
        }
        Some(Arc::new(build(terms)))
    }

    /// `NotExpression <- "not" _ NotExpression / ParenthesizedExpression`
    fn not_expr(&mut self) -> Option<Arc<Expr>> {
        let mut starts: Vec<Pt> = Vec::new();
        loop {
            let save = self.pt;
            if self.toks(&[Tok::Lit("not"), Tok::Ws]) {
                starts.push(save);
            } else {
                break;
            }
        }
        let mut nots = starts.len();
        loop {
            if let Some(mut e) = self.paren_expr() {
                for _ in 0..nots {
                    e = negate(e);
                }
                return Some(e);
            }
            if nots == 0 {
                return None;
            }
            nots -= 1;
            self.pt = starts[nots];
        }
    }

    fn paren_expr(&mut self) -> Option<Arc<Expr>> {
        if self.nesting >= MAX_NESTING {
            if !self.too_deep_reported {
                self.too_deep_reported = true;
                let msg = format!("expression nests more than {} levels deep", MAX_NESTING);
                self.add_err(RULE_GROUPING, &msg);
            }
            return None;
        }
        self.nesting += 1;
        let r = self.paren_alternatives();
        self.nesting -= 1;
        r
    }

    fn paren_alternatives(&mut self) -> Option<Arc<Expr>> {
        let grouped = self.seq(|p| {
            ok(p.lit("("))?;
            p.opt_ws();
            let e = p.or_expr()?;
            p.opt_ws();
            ok(p.lit(")"))?;
            Some(e)
        });
        if grouped.is_some() {
            return grouped;
        }
        if let Some(m) = self.match_expr() {
            return Some(Arc::new(Expr::Match(m)));
        }
        self.seq(|p| {
            ok(p.lit("("))?;
            p.opt_ws();
            p.or_expr()?;
            p.opt_ws();
            ok(p.not(|q| q.lit(")")))?;
            p.add_err(RULE_GROUPING, "Unmatched parentheses");
            None
        })
    }

    fn match_expr(&mut self) -> Option<MatchExpr> {
        if let Some(m) = self.selector_op_value() {
            return Some(m);
        }
        if let Some(m) = self.selector_op() {
            return Some(m);
        }
        self.value_op_selector()
    }

    fn selector_op_value(&mut self) -> Option<MatchExpr> {
        self.seq(|p| {
            let selector = p.selector()?;
            let op = p.op_choice(&[
                MatchOp::Equal,
                MatchOp::NotEqual,
                MatchOp::In,
                MatchOp::NotIn,
                MatchOp::Matches,
                MatchOp::NotMatches,
            ])?;
            let value = p.value()?;
            Some(match_node(selector, op, Some(value)))
        })
    }

    fn selector_op(&mut self) -> Option<MatchExpr> {
        self.seq(|p| {
            let selector = p.selector()?;
            let op = p.op_choice(&[MatchOp::IsEmpty, MatchOp::IsNotEmpty])?;
            Some(match_node(selector, op, None))
        })
    }

    fn value_op_selector(&mut self) -> Option<MatchExpr> {
        let found = self.seq(|p| {
            let value = p.value()?;
            let op = p.op_choice(&[MatchOp::In, MatchOp::NotIn])?;
            let selector = p.selector()?;
            Some(match_node(selector, op, Some(value)))
        });
        if found.is_some() {
            return found;
        }
        self.seq(|p| {
            p.value()?;
            p.op_choice(&[MatchOp::In, MatchOp::NotIn])?;
            ok(p.not(|q| q.selector().is_some()))?;
            p.add_err(RULE_MATCH, "Invalid selector");
            None
        })
    }

    /// The operator rules, tried in the grammar's order. After a selector,
    /// `In`/`NotIn` are spelt `contains`/`not contains`; after a value they
    /// are `in`/`not in`.
    fn op_choice(&mut self, ops: &[MatchOp]) -> Option<MatchOp> {
        let after_value = ops.len() == 2 && ops[0] == MatchOp::In;
        for &op in ops {
            let toks: &[Tok] = match op {
                MatchOp::Equal => &[Tok::OptWs, Tok::Lit("=="), Tok::OptWs],
                MatchOp::NotEqual => &[Tok::OptWs, Tok::Lit("!="), Tok::OptWs],
                MatchOp::In if after_value => &[Tok::Ws, Tok::Lit("in"), Tok::Ws],
                MatchOp::NotIn if after_value => {
                    &[Tok::Ws, Tok::Lit("not"), Tok::Ws, Tok::Lit("in"), Tok::Ws]
                }
                MatchOp::In => &[Tok::Ws, Tok::Lit("contains"), Tok::Ws],
                MatchOp::NotIn => &[
                    Tok::Ws,
                    Tok::Lit("not"),
                    Tok::Ws,
                    Tok::Lit("contains"),
                    Tok::Ws,
                ],
                MatchOp::Matches => &[Tok::Ws, Tok::Lit("matches"), Tok::Ws],
                MatchOp::NotMatches => &[
                    Tok::Ws,
                    Tok::Lit("not"),
                    Tok::Ws,
                    Tok::Lit("matches"),
                    Tok::Ws,
                ],
                MatchOp::IsEmpty => &[Tok::Ws, Tok::Lit("is"), Tok::Ws, Tok::Lit("empty")],
                MatchOp::IsNotEmpty => &[
                    Tok::Ws,
                    Tok::Lit("is"),
                    Tok::Ws,
                    Tok::Lit("not"),
                    Tok::Ws,
                    Tok::Lit("empty"),
                ],
            };
            if self.toks(toks) {
                return Some(op);
            }
        }
        None
    }

    fn selector(&mut self) -> Option<Vec<String>> {
        self.seq(|p| {
            let first = p.identifier()?;
            let mut path = vec![first];
            while let Some(seg) = p.selector_or_index() {
                path.push(seg);
            }
            Some(path)
        })
    }

    fn identifier(&mut self) -> Option<String> {
        let start = self.pt.pos.offset;
        ok(self.class("[a-zA-Z]", |c| c.is_ascii_alphabetic()))?;
        while self.class("[a-zA-Z0-9_]", |c| c.is_ascii_alphanumeric() || c == '_') {}
        Some(self.data[start..self.pt.pos.offset].to_string())
    }

    fn selector_or_index(&mut self) -> Option<String> {
        let dotted = self.seq(|p| {
            ok(p.lit("."))?;
            p.identifier()
        });
        if dotted.is_some() {
            return dotted;
        }
        self.index_expr()
    }

    fn index_expr(&mut self) -> Option<String> {
        let found = self.seq(|p| {
            ok(p.lit("["))?;
            p.opt_ws();
            let key = p.string_literal()?;
            p.opt_ws();
            ok(p.lit("]"))?;
            Some(key)
        });
        if found.is_some() {
            return found;
        }
        let invalid: Option<String> = self.seq(|p| {
            ok(p.lit("["))?;
            p.opt_ws();
            ok(p.not(|q| q.string_literal().is_some()))?;
            p.add_err(RULE_INDEX, "Invalid index");
            None
        });
        if invalid.is_some() {
            return invalid;
        }
        self.seq(|p| {
            ok(p.lit("["))?;
            p.opt_ws();
            p.string_literal()?;
            p.opt_ws();
            ok(p.not(|q| q.lit("]")))?;
            p.add_err(RULE_INDEX, "Unclosed index expression");
            None
        })
    }

    fn value(&mut self) -> Option<String> {
        if let Some(sel) = self.selector() {
            return Some(sel.join("."));
        }
        if let Some(n) = self.number_literal() {
            return Some(n);
        }
        self.string_literal()
    }

    fn number_literal(&mut self) -> Option<String> {
        let start = self.pt.pos.offset;
        let found = self.seq(|p| {
            p.lit("-");
            ok(p.integer_or_float())?;
            ok(p.and(Self::after_numbers))?;
            Some(())
        });
        if found.is_some() {
            return Some(self.data[start..self.pt.pos.offset].to_string());
        }
        self.seq(|p| {
            p.lit("-");
            ok(p.integer_or_float())?;
            ok(p.not(Self::after_numbers))?;
            p.add_err(RULE_NUMBER, "Invalid number literal");
            None
        })
    }

    /// `AfterNumbers <- &(_ / EOF / ")")`
    fn after_numbers(&mut self) -> bool {
        self.and(|p| p.ws() || p.eof() || p.lit(")"))
    }

    fn integer_or_float(&mut self) -> bool {
        self.seq(|p| {
            if !p.lit("0") {
                p.seq(|q| {
                    ok(q.class("[1-9]", |c| ('1'..='9').contains(&c)))?;
                    while q.class("[0-9]", |c| c.is_ascii_digit()) {}
                    Some(())
                })?;
            }
            p.seq(|q| {
                ok(q.lit("."))?;
                ok(q.class("[0-9]", |c| c.is_ascii_digit()))?;
                while q.class("[0-9]", |c| c.is_ascii_digit()) {}
                Some(())
            });
            Some(())
        })
        .is_some()
    }

    fn string_literal(&mut self) -> Option<String> {
        let start = self.pt;
        if self.quoted(true) || self.quoted(false) {
            let text = &self.data[start.pos.offset..self.pt.pos.offset];
            return match gostr::unquote(text) {
                Ok(s) => Some(s),
                Err(()) => {
                    // The action fails but the match stands, as in pigeon.
                    self.add_err_at(start.pos, RULE_STRING, "invalid syntax");
                    Some(String::new())
                }
            };
        }
        self.seq(|p| {
            ok(p.unterminated(true) || p.unterminated(false))?;
            ok(p.eof())?;
            p.add_err(RULE_STRING, "Unterminated string literal");
            None
        })
    }

    fn quote_lit(raw: bool) -> &'static str {
        if raw {
            "`"
        } else {
            "\""
        }
    }

    /// '`' (!'`' .)* '`'  or  '"' (!'"' .)* '"'
    fn quoted(&mut self, raw: bool) -> bool {
        let q = Self::quote_lit(raw);
        self.seq(|p| {
            ok(p.lit(q))?;
            p.string_body(q);
            ok(p.lit(q))
        })
        .is_some()
    }

    fn unterminated(&mut self, raw: bool) -> bool {
        let q = Self::quote_lit(raw);
        self.seq(|p| {
            ok(p.lit(q))?;
            p.string_body(q);
            Some(())
        })
        .is_some()
    }

    fn string_body(&mut self, q: &'static str) {
        while self
            .seq(|p| {
                ok(p.not(|r| r.lit(q)))?;
                ok(p.any())
            })
            .is_some()
        {}
    }
}

fn negate(e: Arc<Expr>) -> Arc<Expr> {
    // The grammar's action folds `not not X` back to X.
    if let Expr::Not(inner) = &*e {
        return inner.clone();
    }
    Arc::new(Expr::Not(e))
}

fn match_node(selector: Vec<String>, op: MatchOp, value: Option<String>) -> MatchExpr {
    MatchExpr {
        selector,
        op,
        value,
        regex: None,
    }
}
