//! Rewrites the HCL1 forms that Consul accepts but hcl-rs (an HCL2 parser) rejects, before
//! parsing: one-line blocks holding two or more attributes (`ports { http = 8500 dns = 8600 }`)
//! and commas between attributes in a block (`ports { http = 8500, dns = 8600 }`). The rewrite
//! only inserts line breaks (and turns such commas into line breaks), so every other byte, and
//! therefore every value, is kept as written.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Ctx {
    /// A block body (`name "label" { ... }`) or the file itself: one attribute per line in HCL2.
    Block,
    /// An object expression (`name = { ... }`): HCL2 allows newlines or commas between items.
    Object,
    /// `[ ... ]` or `( ... )`: elements are left untouched.
    Group,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start of an item: a key (or block type) comes next.
    ExpectKey,
    /// After a key or block label.
    Key,
    /// After `=` / `:` or an operator: an expression is being read.
    InExpr,
    /// A complete value was read; another key on the same line starts a new item.
    ValueEnd,
}

struct Level {
    ctx: Ctx,
    state: State,
}

/// Returns `src` with HCL1-only layouts turned into HCL2 ones; see the module comment.
pub fn normalize_hcl1(src: &str) -> String {
    let chars: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len() + 16);
    let mut stack = vec![Level { ctx: Ctx::Block, state: State::ExpectKey }];
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let top = stack.len() - 1;
        match c {
            '\n' => {
                out.push(c);
                i += 1;
                if stack[top].ctx != Ctx::Group && stack[top].state != State::InExpr {
                    stack[top].state = State::ExpectKey;
                }
            }
            ' ' | '\t' | '\r' => {
                out.push(c);
                i += 1;
            }
            '#' => i = copy_line_comment(&chars, i, &mut out),
            '/' if chars.get(i + 1) == Some(&'/') => i = copy_line_comment(&chars, i, &mut out),
            '/' if chars.get(i + 1) == Some(&'*') => {
                let end = find_seq(&chars, i + 2, &['*', '/']).map_or(chars.len(), |e| e + 2);
                out.extend(&chars[i..end]);
                i = end;
            }
            '"' => {
                new_item_if_needed(&mut stack, &mut out);
                let end = string_end(&chars, i);
                out.extend(&chars[i..end]);
                i = end;
                let top = stack.len() - 1;
                stack[top].state = match stack[top].state {
                    State::ExpectKey | State::Key => State::Key,
                    _ => State::ValueEnd,
                };
            }
            '<' if chars.get(i + 1) == Some(&'<') && stack[top].state == State::InExpr => {
                let end = heredoc_end(&chars, i);
                out.extend(&chars[i..end]);
                i = end;
                stack[top].state = State::ValueEnd;
            }
            '{' => {
                let ctx = match (stack[top].ctx, stack[top].state) {
                    (Ctx::Block | Ctx::Object, State::Key) => Ctx::Block,
                    _ => Ctx::Object,
                };
                out.push(c);
                i += 1;
                if ctx == Ctx::Block {
                    // An HCL2 multi-line block must break the line after its `{`.
                    out.push('\n');
                }
                stack.push(Level { ctx, state: State::ExpectKey });
            }
            '[' | '(' => {
                out.push(c);
                i += 1;
                stack.push(Level { ctx: Ctx::Group, state: State::InExpr });
            }
            '}' | ']' | ')' => {
                if stack.len() > 1 {
                    let closing = stack.pop().map(|l| (l.ctx, l.state));
                    if let Some((Ctx::Block, state)) = closing {
                        if state != State::ExpectKey {
                            out.push('\n');
                        }
                    }
                }
                out.push(c);
                i += 1;
                let top = stack.len() - 1;
                stack[top].state = State::ValueEnd;
            }
            ',' => {
                i += 1;
                if stack[top].ctx == Ctx::Block {
                    out.push('\n');
                    stack[top].state = State::ExpectKey;
                } else {
                    out.push(c);
                    if stack[top].ctx == Ctx::Object {
                        stack[top].state = State::ExpectKey;
                    }
                }
            }
            '=' if chars.get(i + 1) != Some(&'=') && chars.get(i + 1) != Some(&'>') => {
                out.push(c);
                i += 1;
                stack[top].state = State::InExpr;
            }
            c if c.is_alphanumeric() || c == '_' => {
                new_item_if_needed(&mut stack, &mut out);
                let start = i;
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '-' | '.'))
                {
                    i += 1;
                }
                out.extend(&chars[start..i]);
                let top = stack.len() - 1;
                stack[top].state = match stack[top].state {
                    State::ExpectKey | State::Key => State::Key,
                    _ => State::ValueEnd,
                };
            }
            _ => {
                // Operators (`-`, `+`, `?`, `:`, `==`, `=>`, ...) continue the expression.
                out.push(c);
                i += 1;
                if c == '=' {
                    out.push(chars[i]);
                    i += 1;
                }
                stack[top].state = State::InExpr;
            }
        }
    }
    out
}

/// A key or string right after a finished value on the same line starts a new item: HCL1 took
/// whitespace as the separator, HCL2 needs a line break.
fn new_item_if_needed(stack: &mut [Level], out: &mut String) {
    let top = stack.len() - 1;
    if stack[top].ctx != Ctx::Group && stack[top].state == State::ValueEnd {
        out.push('\n');
        stack[top].state = State::ExpectKey;
    }
}

fn copy_line_comment(chars: &[char], start: usize, out: &mut String) -> usize {
    let end = chars[start..].iter().position(|&c| c == '\n').map_or(chars.len(), |p| start + p);
    out.extend(&chars[start..end]);
    end
}

fn find_seq(chars: &[char], from: usize, seq: &[char]) -> Option<usize> {
    (from..chars.len()).find(|&i| chars[i..].starts_with(seq))
}

/// Index just past the closing quote of the string starting at `start` (or the end of input).
fn string_end(chars: &[char], start: usize) -> usize {
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '"' => return i + 1,
            '\n' => return i,
            _ => i += 1,
        }
    }
    chars.len()
}

/// Index just past the closing marker line of the heredoc starting at `start` (`<<EOF`/`<<-EOF`).
fn heredoc_end(chars: &[char], start: usize) -> usize {
    let mut i = start + 2;
    if chars.get(i) == Some(&'-') {
        i += 1;
    }
    let marker_start = i;
    while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
        i += 1;
    }
    let marker: String = chars[marker_start..i].iter().collect();
    if marker.is_empty() {
        return i;
    }
    // Skip to the end of the opening line, then look for a line that is just the marker.
    while i < chars.len() && chars[i] != '\n' {
        i += 1;
    }
    while i < chars.len() {
        let line_start = i + 1;
        let line_end = chars[line_start.min(chars.len())..]
            .iter()
            .position(|&c| c == '\n')
            .map_or(chars.len(), |p| line_start + p);
        let line: String = chars[line_start.min(chars.len())..line_end].iter().collect();
        if line.trim() == marker {
            return line_end;
        }
        i = line_end;
    }
    chars.len()
}

#[cfg(test)]
mod tests {
    use super::normalize_hcl1;

    fn parse(src: &str) -> serde_json::Value {
        let normalized = normalize_hcl1(src);
        let v: hcl::Value = hcl::from_str(&normalized)
            .unwrap_or_else(|e| panic!("hcl-rs rejected {normalized:?}: {e}"));
        serde_json::to_value(v).expect("hcl value converts to json")
    }

    #[test]
    fn hcl_rs_rejects_the_one_line_block_unnormalized() {
        // The reason this module exists: if hcl-rs ever accepts it, the rewrite is moot.
        assert!(hcl::from_str::<hcl::Value>("ports { http = 8500 dns = 8600 }").is_err());
    }

    #[test]
    fn one_line_block_with_two_attributes() {
        let v = parse("ports { http = 8500 dns = 8600 }\n");
        assert_eq!(v, serde_json::json!({"ports": {"http": 8500, "dns": 8600}}));
    }

    #[test]
    fn one_line_block_with_commas_and_strings() {
        let v = parse(r#"addresses { http = "127.0.0.1", dns = "0.0.0.0" } datacenter = "dc2""#);
        assert_eq!(
            v,
            serde_json::json!({"addresses": {"http": "127.0.0.1", "dns": "0.0.0.0"}, "datacenter": "dc2"})
        );
    }

    #[test]
    fn nested_one_line_blocks_and_lists() {
        let src = "acl { enabled = true tokens { agent = \"a\" default = \"b\" } }\nretry_join = [\"a\", \"b\"] server = true";
        let v = parse(src);
        assert_eq!(
            v,
            serde_json::json!({
                "acl": {"enabled": true, "tokens": {"agent": "a", "default": "b"}},
                "retry_join": ["a", "b"],
                "server": true
            })
        );
    }

    #[test]
    fn object_expression_on_one_line() {
        let v = parse("ports = { http = -1 grpc = 8502 }");
        assert_eq!(v, serde_json::json!({"ports": {"http": -1, "grpc": 8502}}));
    }

    #[test]
    fn multi_line_hcl2_is_unchanged_in_meaning() {
        let src = r#"
# a comment { with = braces }
datacenter = "dc1" // trailing
ports {
  http = 8500
  dns  = 8600
}
/* block comment ports { x = 1 y = 2 } */
node_name = "a { b = c d = e }"
"#;
        let v = parse(src);
        assert_eq!(
            v,
            serde_json::json!({"datacenter": "dc1", "ports": {"http": 8500, "dns": 8600}, "node_name": "a { b = c d = e }"})
        );
    }

    #[test]
    fn heredoc_is_copied_verbatim() {
        let src = "x = <<EOF\nports { a = 1 b = 2 }\nEOF\ny = 1\n";
        let v = parse(src);
        assert_eq!(v, serde_json::json!({"x": "ports { a = 1 b = 2 }\n", "y": 1}));
    }
}
