use ballast_keyring::{KeyOpReply, KeyTally, KeyringRequest, KeyringResponse};

#[test]
fn response_json_has_consuls_field_names() {
    let mut tally = KeyTally::new(2);
    let list = KeyOpReply { result: Ok(()), keys: vec!["K1".into(), "K2".into()], primary: Some("K1".into()) };
    tally.add("n1", Ok(&list));
    tally.add("n2", Ok(&list));
    assert!(tally.complete());
    let r = tally.finish(false, "dc1", "");
    let v: serde_json::Value = serde_json::to_value(&r).unwrap();
    assert_eq!(
        v,
        serde_json::json!({
            "WAN": false, "Datacenter": "dc1", "Segment": "",
            "Keys": {"K1": 2, "K2": 2}, "PrimaryKeys": {"K1": 2}, "NumNodes": 2
        })
    );
}

#[test]
fn failures_and_silence_carry_serfs_texts() {
    let mut t = KeyTally::new(3);
    t.add("n1", Ok(&KeyOpReply::ok()));
    t.add("n2", Ok(&KeyOpReply::error("Requested key is not in the keyring")));
    let r = t.finish(true, "dc1", "");
    assert_eq!(r.error, "1/3 nodes reported failure");
    assert_eq!(r.messages.get("n2").map(String::as_str), Some("Requested key is not in the keyring"));
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(v["WAN"], true);
    assert_eq!(v["Messages"]["n2"], "Requested key is not in the keyring");
    assert_eq!(v["Error"], "1/3 nodes reported failure");

    let mut t = KeyTally::new(3);
    t.add("n1", Ok(&KeyOpReply::ok()));
    assert!(!t.complete());
    assert_eq!(t.finish(false, "dc1", "").error, "1/3 nodes reported success");

    let mut t = KeyTally::new(1);
    t.add("n1", Err(&[0xde, 0xad]));
    let r = t.finish(false, "dc1", "");
    assert!(r.messages["n1"].starts_with("Failed to decode key query response"));
}

#[test]
fn decodes_consuls_json_and_request_body() {
    let body = r#"[{"WAN":false,"Datacenter":"dc1","Segment":"","Messages":{},"Keys":{"pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s=":1},"PrimaryKeys":{"pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s=":1},"NumNodes":1}]"#;
    let rs: Vec<KeyringResponse> = serde_json::from_str(body).unwrap();
    assert_eq!(rs[0].num_nodes, 1);
    assert_eq!(rs[0].keys.len(), 1);
    let req: KeyringRequest = serde_json::from_str(r#"{"Key":"abc"}"#).unwrap();
    assert_eq!(req.key, "abc");
    assert_eq!(serde_json::to_string(&req).unwrap(), r#"{"Key":"abc"}"#);
}
