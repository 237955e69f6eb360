//! Parse errors carry go-bexpr's (pigeon's) text behind Consul's prefix.
//! The first three are verbatim answers quoted in hashicorp/consul issues
//! #7338, #9441 and #6467.

use ballast_filter::Filter;

fn err(expr: &str) -> String {
    let e = Filter::parse(expr).expect_err(expr);
    assert_eq!(e.status(), 500);
    e.to_string()
}

const P: &str = "Failed to create boolean expression evaluator: ";

#[test]
fn bare_word_lists_what_was_expected() {
    // consul#7338 (agent/services?filter=foo), as returned by Consul.
    assert_eq!(
        err("foo"),
        format!("{P}1:4 (3): no match found, expected: \"!=\", \".\", \"==\", \"[\", [ \\t\\r\\n] or [a-zA-Z0-9_]")
    );
}

#[test]
fn unquoted_ip_is_an_invalid_number() {
    // consul#9441.
    assert_eq!(
        err("Address == 10.10.10.10"),
        format!("{P}1:17 (16): rule \"number\": Invalid number literal")
    );
}

#[test]
fn hyphenated_bare_value_expects_eof() {
    // consul#6467 shape: the bare value stops at '-'.
    assert_eq!(
        err("Node==host-name"),
        format!("{P}1:11 (10): no match found, expected: \".\", \"[\", [ \\t\\r\\n], [a-zA-Z0-9_] or EOF")
    );
}

#[test]
fn grammar_action_errors() {
    assert_eq!(
        err("Name == \"abc"),
        format!("{P}1:13 (12): rule \"string\": Unterminated string literal")
    );
    assert_eq!(
        err("(Name == a"),
        format!("{P}1:11 (10): rule \"grouping\": Unmatched parentheses")
    );
    assert_eq!(err("Meta[1] == a"), format!("{P}1:6 (5): rule \"index\": Invalid index"));
    assert_eq!(
        err("Meta[\"a\" == a"),
        format!("{P}1:10 (9): rule \"index\": Unclosed index expression")
    );
    assert_eq!(
        err("foo in 12"),
        format!("{P}1:8 (7): rule \"match\": Invalid selector")
    );
    // Go's strconv.Unquote rejects \' inside double quotes.
    assert_eq!(
        err("Name == \"a\\'b\""),
        format!("{P}1:9 (8): rule \"string\": invalid syntax")
    );
}

#[test]
fn positions_count_lines_and_runes() {
    // Offsets are bytes (é is two), columns are runes.
    assert_eq!(
        err("Name == \"é\"\nand"),
        format!("{P}2:4 (16): no match found, expected: [ \\t\\r\\n]")
    );
}

#[test]
fn empty_and_operator_only_inputs_fail() {
    assert!(err("").starts_with(&format!("{P}1:1 (0): no match found, expected: ")));
    assert!(err("==").starts_with(P));
    assert!(err("a ==").starts_with(P));
    assert!(err("a == b or").starts_with(P));
    assert!(err("a is").starts_with(P));
}

#[test]
fn bad_regex_fails_at_parse_time() {
    let e = err("Name matches \"(\"");
    assert!(
        e.starts_with(&format!("{P}Failed to compile regular expression \"(\": error parsing regexp: ")),
        "{e}"
    );
}

#[test]
fn hostile_nesting_is_refused_not_overflowed() {
    let deep = "(".repeat(100_000);
    assert!(err(&deep).contains("nests more than"));
    let balanced = format!("{}a == b{}", "(".repeat(200), ")".repeat(200));
    assert!(err(&balanced).contains("nests more than"));
    // Within the cap it parses.
    let ok = format!("{}a == b{}", "(".repeat(40), ")".repeat(40));
    assert!(Filter::parse(&ok).is_ok());
}

#[test]
fn long_flat_chains_and_not_runs_parse() {
    let chain = vec!["Node == a"; 5_000].join(" or ");
    assert!(Filter::parse(&chain).is_ok());
    let nots = format!("{}Node == a", "not ".repeat(5_001));
    let f = Filter::parse(&nots).unwrap();
    let v = serde_json::json!({"Node": "a"});
    assert!(!f.matches(&v).unwrap());
}

#[test]
fn keyword_shaped_selectors_still_parse() {
    // `not == 1` compares a field named "not", as in bexpr.
    let f = Filter::parse("not == 1").unwrap();
    assert!(f.matches(&serde_json::json!({"not": 1})).unwrap());
}
