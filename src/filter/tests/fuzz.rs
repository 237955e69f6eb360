//! Random and token-soup input must never panic or overflow, parsing must be
//! deterministic, and every failure must be a Consul-shaped 500.

mod fixtures;

use ballast_filter::Filter;

/// xorshift64*: deterministic, so a failure reproduces.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const TOKENS: &[&str] = &[
    "(", ")", " ", "\t", "\n", "and", "or", "not", "==", "!=", "in", "contains", "matches",
    "is", "empty", "Checks", "Status", "Service", "Tags", "Meta", "Node", ".", "[", "]",
    "\"", "`", "\\", "\"passing\"", "`v2`", "-", "0", "12", "3.5", "é", "[\"rack\"]", "\"(\"",
    "\"\\x\"", "\"a\\tb\"",
];

fn assert_well_formed(input: &str, docs: &[serde_json::Value]) {
    let first = Filter::parse(input);
    let second = Filter::parse(input);
    match (&first, &second) {
        (Ok(f), Ok(_)) => {
            for d in docs {
                if let Err(e) = f.matches(d) {
                    assert_eq!(e.status(), 500);
                    assert!(e.to_string().starts_with("Failed to create boolean expression evaluator: "));
                }
            }
        }
        (Err(a), Err(b)) => {
            assert_eq!(a, b, "nondeterministic error for {input:?}");
            assert_eq!(a.status(), 500);
            assert!(a.to_string().starts_with("Failed to create boolean expression evaluator: "));
        }
        _ => panic!("nondeterministic parse for {input:?}"),
    }
}

#[test]
fn token_soup_never_panics() {
    let docs = [fixtures::service_entry(), fixtures::health_check(), fixtures::node()];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut parsed = 0;
    for _ in 0..6_000 {
        let n = rng.below(16);
        let mut s = String::new();
        for _ in 0..n {
            s.push_str(TOKENS[rng.below(TOKENS.len())]);
            if rng.below(3) == 0 {
                s.push(' ');
            }
        }
        if Filter::parse(&s).is_ok() {
            parsed += 1;
        }
        assert_well_formed(&s, &docs);
    }
    assert!(parsed > 0, "no soup input parsed");
}

const SELECTORS: &[&str] = &[
    "Checks.Status", "Service.Tags", "Service.Port", "Node.Meta.rack", "Node.Meta[\"env\"]",
    "Service.Service", "Checks", "Service.EnableTagOverride", "Service.Weights", "Nope.X",
];
const OPS: &[&str] = &[
    " == ", " != ", " contains ", " not contains ", " matches ", " not matches ", " is empty",
    " is not empty",
];
const VALUES: &[&str] = &["passing", "\"v2\"", "8080", "`r1`", "true", "\"a.*\"", "x"];

#[test]
fn generated_expressions_parse_and_evaluate() {
    let docs = [fixtures::service_entry(), fixtures::health_check(), fixtures::node()];
    let mut rng = Rng(0x0123_4567_89AB_CDEF);
    for _ in 0..3_000 {
        let terms = 1 + rng.below(4);
        let mut s = String::new();
        for i in 0..terms {
            if i > 0 {
                s.push_str(if rng.below(2) == 0 { " and " } else { " or " });
            }
            if rng.below(4) == 0 {
                s.push_str("not ");
            }
            let sel = SELECTORS[rng.below(SELECTORS.len())];
            let term = if rng.below(5) == 0 {
                format!("{} in {}", VALUES[rng.below(VALUES.len())], sel)
            } else {
                let op = OPS[rng.below(OPS.len())];
                if op.starts_with(" is") {
                    format!("{sel}{op}")
                } else {
                    format!("{sel}{op}{}", VALUES[rng.below(VALUES.len())])
                }
            };
            if rng.below(3) == 0 {
                s.push_str(&format!("({term})"));
            } else {
                s.push_str(&term);
            }
        }
        // Every generated expression is grammatical.
        assert!(Filter::parse(&s).is_ok(), "{s}");
        assert_well_formed(&s, &docs);
    }
}

#[test]
fn random_bytes_never_panic() {
    let docs = [fixtures::service_entry()];
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    for _ in 0..4_000 {
        let n = rng.below(48);
        let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
        let s = String::from_utf8_lossy(&bytes);
        assert_well_formed(&s, &docs);
    }
}

#[test]
fn hostile_shapes_finish() {
    let docs = [fixtures::service_entry()];
    let shapes = [
        "(".repeat(5_000),
        format!("{}a", "((".repeat(3_000)),
        format!("{}a == b", "( not ".repeat(1_000)),
        "not ".repeat(20_000),
        format!("a == {}", "\"".repeat(10_001)),
        format!("a[{}", "[\"x\"]".repeat(2_000)),
        format!("{}a == b{}", "(".repeat(63), ")".repeat(63)),
    ];
    for s in &shapes {
        assert_well_formed(s, &docs);
    }
}
