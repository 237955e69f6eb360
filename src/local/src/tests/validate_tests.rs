use super::{register, state};
use crate::{decode_check_registration, decode_service_registration, LocalConfig, LocalError, LocalState};

fn reg_err(body: &str) -> LocalError {
    let mut st = state();
    let def = decode_service_registration(body.as_bytes()).unwrap();
    st.register_service(&def, "", false).unwrap_err()
}

#[test]
fn service_validation_messages() {
    assert_eq!(reg_err(r#"{"ID":"x"}"#), LocalError::BadRequest("Missing service name".into()));
    assert_eq!(reg_err(r#"{"Name":"x","Address":"0.0.0.0"}"#), LocalError::BadRequest("Invalid service address".into()));
    assert_eq!(reg_err(r#"{"Name":"x","Address":"::"}"#).to_string(), "Invalid service address");
    assert_eq!(
        reg_err(r#"{"Name":"x","Weights":{"Passing":0,"Warning":1}}"#).to_string(),
        "Invalid Weights: Passing must be greater than 0"
    );
    assert_eq!(
        reg_err(r#"{"Name":"x","Meta":{"bad key":"v"}}"#).to_string(),
        "Invalid Service Meta: Couldn't load metadata pair ('bad key', 'v'): Key contains invalid characters"
    );
    assert_eq!(
        reg_err(r#"{"Name":"x","Meta":{"consul-x":"v"}}"#).to_string(),
        "Invalid Service Meta: Couldn't load metadata pair ('consul-x', 'v'): Key prefix 'consul-' is reserved for internal use"
    );
    assert_eq!(
        reg_err(r#"{"Name":"x","Check":{"HTTP":"http://x"}}"#).to_string(),
        "Invalid check: Interval must be > 0 for Script, HTTP, H2PING, TCP, UDP or OSService checks"
    );
    assert_eq!(reg_err(r#"{"Name":"x","Checks":[{}]}"#).to_string(), "Invalid check: TTL must be > 0 for TTL checks");
    assert_eq!(
        reg_err(r#"{"Name":"x","Check":{"TTL":"1s","Interval":"1s"}}"#).to_string(),
        "Invalid check: Interval and TTL cannot both be specified"
    );
    assert_eq!(
        reg_err(r#"{"Name":"x","Check":{"TTL":"1s","Status":"ok"}}"#).to_string(),
        "Status for checks must 'passing', 'warning', 'critical'"
    );
    assert_eq!(
        reg_err(r#"{"Name":"x","Kind":"connect-proxy"}"#).to_string(),
        "Validation failed: 2 errors occurred:\n\t* Port or SocketPath must be set for a connect-proxy\n\t* Proxy.DestinationServiceName must be non-empty for Connect proxy services\n\n"
    );
    let e = reg_err(r#"{"Name":"x","TaggedAddresses":{"lan_ipv4":{"Address":"nope"}}}"#);
    assert_eq!((e.status(), e.to_string().as_str()), (500, "Service tagged address \"lan_ipv4\" must be a valid ipv4 address"));
    let e = reg_err(r#"{"Name":"x","Check":{"Args":["/bin/true"],"Interval":"10s"}}"#);
    assert_eq!(e.status(), 500);
    assert!(e.to_string().starts_with("Scripts are disabled on this agent from remote calls"));
}

#[test]
fn service_defaults() {
    let mut st = state();
    register(&mut st, r#"{"Name":"web","Address":"10.0.0.9","Port":80,"Checks":[{"TTL":"10s"},{"HTTP":"http://x","Interval":"10s","Timeout":"2s"}]}"#);
    let s = st.service("web").expect("ID defaults to Name");
    assert_eq!(s.weights, Some(ballast_store::catalog::Weights { passing: 1, warning: 1 }));
    assert_eq!(s.tagged_addresses["lan_ipv4"].address, "10.0.0.9");
    assert_eq!(s.tagged_addresses["wan_ipv4"].port, 80);
    let c1 = st.check("service:web:1").unwrap();
    assert_eq!((c1.status.as_str(), c1.check_type.as_str(), c1.name.as_str()), ("critical", "ttl", "Service 'web' check"));
    assert_eq!((c1.interval.as_str(), c1.timeout.as_str()), ("", ""));
    let c2 = st.check("service:web:2").unwrap();
    assert_eq!((c2.check_type.as_str(), c2.interval.as_str(), c2.timeout.as_str()), ("http", "10s", "2s"));
    assert_eq!(c2.service_name, "web");
    let mut st = state();
    register(&mut st, r#"{"Name":"db","ID":"db1","Check":{"TTL":"10s","Status":"passing"}}"#);
    assert_eq!(st.check("service:db1").unwrap().status, "passing");
}

#[test]
fn check_registration_validation() {
    let mut st = state();
    let reg = |st: &mut LocalState, body: &str| {
        let d = decode_check_registration(body.as_bytes()).unwrap();
        st.register_check(&d, "")
    };
    assert_eq!(reg(&mut st, r#"{"TTL":"1s"}"#), Err(LocalError::BadRequest("Missing check name".into())));
    assert_eq!(reg(&mut st, r#"{"Name":"n","TTL":"1s","Status":"up"}"#), Err(LocalError::BadRequest("Bad check status".into())));
    assert_eq!(
        reg(&mut st, r#"{"Name":"n"}"#),
        Err(LocalError::BadRequest("Invalid check: TTL must be > 0 for TTL checks".into()))
    );
    assert_eq!(
        reg(&mut st, r#"{"Name":"n","AliasService":"a","TTL":"1s"}"#),
        Err(LocalError::BadRequest("Invalid check: TTL must be not be set for Alias checks".into()))
    );
    let e = reg(&mut st, r#"{"Name":"n","TTL":"1s","ServiceID":"ghost"}"#).unwrap_err();
    assert_eq!((e.status(), e.to_string().as_str()), (404, "ServiceID \"ghost\" does not exist"));
    reg(&mut st, r#"{"Name":"alias","AliasService":"web"}"#).unwrap();
    let c = st.check("alias").expect("ID defaults to Name");
    assert_eq!((c.check_type.as_str(), c.interval.as_str(), c.timeout.as_str()), ("alias", "0s", "0s"));
    assert_eq!(c.status, "critical");
}

#[test]
fn script_checks_allowed_when_enabled() {
    let config = LocalConfig { enable_remote_script_checks: true, ..LocalConfig::default() };
    let mut st = LocalState::new(super::node(), config);
    register(&mut st, r#"{"Name":"x","Check":{"Args":["/bin/true"],"Interval":"10s"}}"#);
    assert_eq!(st.check("service:x").unwrap().check_type, "script");
}
