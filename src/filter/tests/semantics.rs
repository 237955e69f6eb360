//! Expected results of filter expressions over realistic Consul JSON,
//! following go-bexpr v0.1.2 as Consul 1.2x uses it.

mod fixtures;

use ballast_filter::Filter;
use serde_json::Value;

fn check(doc: &Value, cases: &[(&str, bool)]) {
    for (expr, want) in cases {
        let f = Filter::parse(expr).unwrap_or_else(|e| panic!("parse {expr:?}: {e}"));
        let got = f
            .matches(doc)
            .unwrap_or_else(|e| panic!("eval {expr:?}: {e}"));
        assert_eq!(got, *want, "{expr}");
    }
}

fn eval_err(doc: &Value, expr: &str) -> String {
    let f = Filter::parse(expr).unwrap_or_else(|e| panic!("parse {expr:?}: {e}"));
    let e = f.matches(doc).expect_err(expr);
    assert_eq!(e.status(), 500, "{expr}");
    e.to_string()
}

#[test]
fn equality_and_coercion_on_a_service_entry() {
    check(
        &fixtures::service_entry(),
        &[
            ("Service.Service == web", true),
            ("Service.Service == \"web\"", true),
            ("Service.Service == `web`", true),
            ("Service.Service != web", false),
            ("Service.Service == Web", false),
            ("Node.Node == \"node-1\"", true),
            ("Service.Port == 8080", true),
            ("Service.Port == \"8080\"", true),
            ("Service.Port == \"0x1F90\"", true),
            ("Service.Port != 80", true),
            ("Service.Weights.Passing == 10", true),
            ("Service.EnableTagOverride == false", true),
            ("Service.EnableTagOverride == \"F\"", true),
            ("Service.EnableTagOverride != true", true),
            ("Node.CreateIndex == 5", true),
        ],
    );
}

#[test]
fn lists_of_objects_match_when_any_element_matches() {
    check(
        &fixtures::service_entry(),
        &[
            ("Checks.Status == passing", true),
            ("Checks.Status == critical", true),
            ("Checks.Status == warning", false),
            // != is also "any": one check is not passing.
            ("Checks.Status != passing", true),
            ("Checks.Status != maintenance", true),
            ("not Checks.Status == critical", false),
            ("Checks.ServiceTags contains v2", true),
            ("Checks.ServiceTags contains v3", false),
            ("Checks.Type == http and Checks.Status == passing", true),
            ("Checks is not empty", true),
            ("Checks.CheckID matches \"^service:\"", true),
        ],
    );
}

#[test]
fn in_and_contains_on_lists_maps_and_strings() {
    check(
        &fixtures::service_entry(),
        &[
            ("v2 in Service.Tags", true),
            ("\"primary\" in Service.Tags", true),
            ("Service.Tags contains v1", false),
            ("Service.Tags not contains v1", true),
            ("v1 not in Service.Tags", true),
            ("rack in Node.Meta", true),
            ("zone in Node.Meta", false),
            ("Node.Meta contains env", true),
            ("lan in Node.TaggedAddresses", true),
            ("\"eb\" in Service.Service", true),
            ("Service.Service contains \"we\"", true),
            ("Node.Node not contains \"node-2\"", true),
            ("Service.Tags is empty", false),
            ("Service.Tags is not empty", true),
            ("Node.Meta is empty", false),
        ],
    );
}

#[test]
fn map_keys_by_dot_and_index() {
    check(
        &fixtures::service_entry(),
        &[
            ("Node.Meta.rack == r1", true),
            ("Node.Meta[\"rack\"] == r1", true),
            ("Node.Meta[`env`] == prod", true),
            ("Service.Meta[\"version\"] matches \"^2\\\\.\"", true),
            ("Node.TaggedAddresses.wan == \"198.18.0.11\"", true),
            // bexpr's missing-map-key answers.
            ("Node.Meta.zone == a", false),
            ("Node.Meta.zone != a", true),
            ("Node.Meta.zone is empty", true),
            ("Node.Meta.zone is not empty", false),
            ("Node.Meta.zone contains a", false),
            ("Node.Meta.zone not contains a", true),
            ("Node.Meta.zone matches a", true),
        ],
    );
}

#[test]
fn field_names_are_case_sensitive() {
    // `service` is not the Go field `Service`: an omitted zero value.
    check(
        &fixtures::service_entry(),
        &[("service.Service == web", false), ("Service.service == \"\"", true)],
    );
}

#[test]
fn regex_matching() {
    check(
        &fixtures::health_check(),
        &[
            ("Output matches \"503$\"", true),
            ("Output not matches \"^HTTP\"", false),
            ("Name matches `Service '\\w+' check`", true),
            ("CheckID matches \"web\"", true),
        ],
    );
}

#[test]
fn precedence_and_grouping() {
    check(
        &fixtures::node(),
        &[
            // and binds tighter than or.
            ("Node == x or Node == \"node-1\" and Datacenter == dc1", true),
            ("Node == x or Node == \"node-1\" and Datacenter == dc2", false),
            ("(Node == x or Node == \"node-1\") and Datacenter == dc2", false),
            ("Node == \"node-1\" or Datacenter == dc2 and Node == y", true),
            // not binds tightest.
            ("not Node == x and Datacenter == dc1", true),
            ("not (Node == \"node-1\" and Datacenter == dc1)", false),
            ("not not Node == \"node-1\"", true),
            ("( Node == \"node-1\" )", true),
            ("((Datacenter == dc1))", true),
            ("\n\tNode == \"node-1\"\n", true),
        ],
    );
}

#[test]
fn omitted_fields_read_as_zero_values() {
    // Service.Connect.Native is `omitempty`: absent means false.
    check(
        &fixtures::service_entry(),
        &[
            ("Service.Connect.Native == false", true),
            ("Service.Connect.Native == true", false),
            ("Service.Proxy.DestinationServiceName == \"\"", true),
            ("Service.Proxy.DestinationServiceName is empty", true),
            ("Service.Proxy.Upstreams is empty", true),
            ("x in Service.Proxy.Upstreams", false),
        ],
    );
}

#[test]
fn operator_and_type_errors_use_consuls_texts() {
    let entry = fixtures::service_entry();
    assert_eq!(
        eval_err(&entry, "Service.Port == abc"),
        "Failed to create boolean expression evaluator: Failed to coerce value \"abc\" for selector \"Service.Port\": strconv.ParseInt: parsing \"abc\": invalid syntax"
    );
    assert_eq!(
        eval_err(&entry, "Service.EnableTagOverride == yes"),
        "Failed to create boolean expression evaluator: Failed to coerce value \"yes\" for selector \"Service.EnableTagOverride\": strconv.ParseBool: parsing \"yes\": invalid syntax"
    );
    assert_eq!(
        eval_err(&entry, "Service.Service is empty"),
        "Failed to create boolean expression evaluator: Invalid match operator \"Is Empty\" for selector \"Service.Service\""
    );
    assert_eq!(
        eval_err(&entry, "Service.Tags == v2"),
        "Failed to create boolean expression evaluator: Invalid match operator \"Equal\" for selector \"Service.Tags\""
    );
    assert_eq!(
        eval_err(&entry, "x in Checks"),
        "Failed to create boolean expression evaluator: Invalid match operator \"In\" for selector \"Checks\""
    );
    assert_eq!(
        eval_err(&entry, "Service.Port.Foo == 1"),
        "Failed to create boolean expression evaluator: Selector \"Service.Port.Foo\" is not valid"
    );
    // Short-circuit: the bad right side is never reached.
    check(&entry, &[("Service.Service == db and Service.Port == abc", false)]);
}

#[test]
fn filter_in_place_keeps_matching_elements_in_order() {
    let mut a = fixtures::node();
    a["Node"] = "a".into();
    let mut b = fixtures::node();
    b["Node"] = "b".into();
    b["Meta"]["env"] = "dev".into();
    let mut c = fixtures::node();
    c["Node"] = "c".into();
    let mut items = vec![a, b, c];
    Filter::parse("Meta.env == prod")
        .unwrap()
        .filter_in_place(&mut items)
        .unwrap();
    let names: Vec<&str> = items.iter().map(|n| n["Node"].as_str().unwrap()).collect();
    assert_eq!(names, ["a", "c"]);

    // An error leaves the list untouched.
    let before = items.clone();
    let err = Filter::parse("Meta == x").unwrap().filter_in_place(&mut items);
    assert!(err.is_err());
    assert_eq!(items, before);
}

#[test]
fn filter_map_values_for_agent_endpoints() {
    let mut services = serde_json::Map::new();
    services.insert("web-1".into(), serde_json::json!({"Service": "web", "Port": 80}));
    services.insert("db-1".into(), serde_json::json!({"Service": "db", "Port": 5432}));
    Filter::parse("Port == 5432")
        .unwrap()
        .filter_map_values(&mut services)
        .unwrap();
    assert_eq!(services.keys().collect::<Vec<_>>(), ["db-1"]);
}

#[test]
fn empty_filter_means_no_filter() {
    assert!(Filter::parse_optional("").unwrap().is_none());
    assert!(Filter::parse_optional("Node == a").unwrap().is_some());
}
